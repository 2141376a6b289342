// Package testenv holds the switches the project's tests share.
package testenv

import (
	"os"
	"testing"
)

// LongEnv is the environment variable that turns on the long,
// figure-printing runs (reliability storms, goodput, memory and overhead
// figures). The README's test command runs without them in about two
// minutes; CI sets SWITCHBOARD_LONG=1 and runs everything.
const LongEnv = "SWITCHBOARD_LONG"

// Long skips t unless SWITCHBOARD_LONG=1 is set. Call it first in a test
// that takes more than about a second or exists to print a figure.
func Long(t testing.TB) {
	t.Helper()
	if os.Getenv(LongEnv) != "1" {
		t.Skip("long run: set " + LongEnv + "=1 to run it (CI does)")
	}
}

// IsLong reports whether the long runs are on.
func IsLong() bool { return os.Getenv(LongEnv) == "1" }
