package telephony

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/internal/testenv"
)

// checkFast fails when fastPossibleE164 accepts s but libphonenumber's full
// parse would not give the same answer: ValidateE164 nil, and
// NormalizeNumber returning s unchanged.
func checkFast(t testing.TB, s string) (fast, possible bool) {
	fast = fastPossibleE164(s)
	slowErr := validateE164Slow(s)
	if fast {
		if !assert.NoError(t, slowErr, "fast path accepted %q", s) {
			return fast, false
		}
		assert.Equal(t, s, normalizeSlow(s), "fast path returns %q unchanged from NormalizeNumber", s)
	}
	return fast, slowErr == nil
}

// numbersForEveryCode yields, for every calling code libphonenumber knows,
// '+', the code and national parts of every length up to E.164's 15
// digits, each first digit 0-9 and perTail random tails.
func numbersForEveryCode(perTail int, yield func(string)) {
	rng := rand.New(rand.NewPCG(12, 34))
	// In order, so that the same numbers come every run.
	for _, cc := range slices.Sorted(maps.Keys(phonenumbers.GetSupportedCallingCodes())) {
		code := strconv.Itoa(cc)
		for n := 0; len(code)+n <= 15; n++ {
			for first := byte('0'); first <= '9'; first++ {
				for range perTail {
					var b strings.Builder
					b.WriteString("+" + code)
					for i := range n {
						if i == 0 {
							b.WriteByte(first)
						} else {
							b.WriteByte(byte('0' + rng.IntN(10)))
						}
					}
					yield(b.String())
					if n == 0 {
						break
					}
				}
				if n == 0 {
					break
				}
			}
		}
	}
}

// TestFastE164AgreesWithLibphonenumber: every number the fast path accepts,
// libphonenumber's full parse accepts and reads as itself, for every
// calling code and national length, in several default regions (which
// NormalizeNumber reads numbers without '+' in). It prints how many of the
// possible numbers the fast path decides alone.
func TestFastE164AgreesWithLibphonenumber(t *testing.T) {
	// Under -race the comparison takes ten times as long and tests no
	// concurrency: the long run is for plain go test.
	perTail, regions := 1, []string{"US"}
	if testenv.IsLong() && !testenv.Race {
		perTail, regions = 2, []string{"US", "GB", "FR", "IN", "BR"}
	}
	prev := DefaultRegion()
	t.Cleanup(func() { require.NoError(t, SetDefaultRegion(prev)) })
	for _, region := range regions {
		require.NoError(t, SetDefaultRegion(region))
		var total, possible, fast int
		numbersForEveryCode(perTail, func(s string) {
			f, p := checkFast(t, s)
			total++
			if p {
				possible++
			}
			if f {
				fast++
			}
		})
		require.Positive(t, possible, "some generated numbers are possible")
		t.Logf("fast E.164 path, default region %s: %d numbers over every calling code, %d possible (libphonenumber), %d of them (%.1f%%) decided by the fast path, 0 disagreements",
			region, total, possible, fast, 100*float64(fast)/float64(possible))
	}
}

// TestFastE164Rejects: what the fast path must leave to libphonenumber.
func TestFastE164Rejects(t *testing.T) {
	for _, s := range []string{
		"", "+", "+1", "+12", "14155550100", "+1 4155550100", "+0123456789",
		"+1415555010012345", // more than 15 digits
		"+14155550",         // local-only length in the US
		"+99912345678",      // no such calling code
		"+440207183875",     // national prefix 0 after +44: libphonenumber strips it
		"+１4155550100",      // a full-width digit
	} {
		assert.False(t, fastPossibleE164(s), "%q", s)
	}
	for _, s := range []string{"+14155550100", "+442071838750", "+33612345678", "+919876543210", "+6591234567", "+80012345678"} {
		assert.True(t, fastPossibleE164(s), "%q", s)
	}
}

// TestFastE164Allocations: the fast path allocates nothing, so validating
// a call's numbers costs no garbage.
func TestFastE164Allocations(t *testing.T) {
	if testenv.Race {
		t.Skip("allocation counts are not exact under -race")
	}
	ccTable() // built once, on first use
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_ = ValidateE164("+14155550100")
		_ = NormalizeNumber("+442071838750")
	}))
}

// FuzzFastE164: for any input, an accepted number is one libphonenumber's
// full parse accepts and reads as itself.
func FuzzFastE164(f *testing.F) {
	for _, s := range []string{"+14155550100", "+442071838750", "+440207183875", "+80012345678", "+5491123456789", "+12", "+39061234567", "+7 9123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkFast(t, s)
	})
}

// BenchmarkValidateE164 compares the fast path with libphonenumber's full
// parse on the same number, side by side.
func BenchmarkValidateE164(b *testing.B) {
	b.Run("impl=fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ValidateE164("+14155550100") != nil {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("impl=libphonenumber", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if validateE164Slow("+14155550100") != nil {
				b.Fatal("rejected")
			}
		}
	})
}
