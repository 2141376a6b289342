//go:build race

package main

// raceEnabled: the example is built with the race detector too.
const raceEnabled = true
