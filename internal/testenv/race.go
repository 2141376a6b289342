//go:build race

package testenv

// Race reports whether the race detector is on. Allocation counts are not
// exact under it: sync.Pool drops items at random to find races, so
// pooled objects are allocated again.
const Race = true
