package telephony

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegionCode is the region NormalizeNumber assumes for a number
// written without its country code until SetDefaultRegion changes it.
const DefaultRegionCode = "US"

var defaultRegion atomic.Pointer[string]

// SetDefaultRegion sets the region (an ISO 3166-1 alpha-2 code such as
// "US", "GB" or "FR") NormalizeNumber reads a number in when the provider
// sent it without a '+': "(415) 555-0100" is +14155550100 in "US", and
// "01 76 36 06 95" is +33176360695 in "FR". It applies to every client and
// handler of the process; set it once at start-up. The default is
// DefaultRegionCode. An unknown code is refused and changes nothing.
func SetDefaultRegion(region string) error {
	r := strings.ToUpper(strings.TrimSpace(region))
	if phonenumbers.GetCountryCodeForRegion(r) == 0 {
		return fmt.Errorf("telephony.SetDefaultRegion: %q is not a region code; use an ISO 3166-1 alpha-2 code such as \"US\" or \"GB\"", region)
	}
	defaultRegion.Store(&r)
	return nil
}

// DefaultRegion returns the region set by SetDefaultRegion, or
// DefaultRegionCode.
func DefaultRegion() string {
	if r := defaultRegion.Load(); r != nil {
		return *r
	}
	return DefaultRegionCode
}

// NormalizeNumber returns a phone number a provider sent in E.164 form
// (+14155550100), or s unchanged (spaces trimmed) when it is not a phone
// number it can read ("anonymous", an extension, ""). Providers write
// numbers their own way: JustCall sends the country code without the '+'
// (14155550100), Aircall adds spaces ("+1 415-555-0100"), and numbers
// without a country code occur. It reads s, in order:
//
//  1. in the default region (SetDefaultRegion), which also reads a number
//     that starts with '+' or with that region's country code;
//  2. when s has no '+', as the country code and number with the '+'
//     left out (JustCall's form for numbers outside the default region).
//
// A reading that is a valid number (libphonenumber's metadata) wins over
// one that is only possible (of a length a number of that country has,
// area code included); the first wins a tie.
// A number of another country without its '+' can read as a valid number
// of the default region: such a number stays ambiguous, and the default
// region decides.
//
// The portable layer applies it to every number it exposes
// (CallEvent.From/To, InboundCall.From/To, Call.From/To), so that routing
// rules such as ByCallerPrefix can compare numbers as E.164. A number
// already in E.164 form is returned as it is without libphonenumber's full
// parse (and without allocating) when that parse would read it as itself.
func NormalizeNumber(s string) string {
	s = strings.TrimSpace(s)
	if fastPossibleE164(s) {
		return s // already E.164, and libphonenumber would read it as itself
	}
	return normalizeSlow(s)
}

// normalizeSlow is NormalizeNumber through libphonenumber's full parse, for
// the trimmed s that fastPossibleE164 cannot decide.
func normalizeSlow(s string) string {
	if s == "" || !strings.ContainsAny(s, "0123456789") {
		return s
	}
	var possible string
	for i, in := range [2]string{s, "+" + s} {
		if i == 1 && strings.HasPrefix(s, "+") {
			break
		}
		n, err := phonenumbers.Parse(in, DefaultRegion())
		if err != nil || phonenumbers.IsPossibleNumberWithReason(n) != phonenumbers.IS_POSSIBLE {
			continue
		}
		e164 := phonenumbers.Format(n, phonenumbers.E164)
		if phonenumbers.IsValidNumber(n) {
			return e164
		}
		if possible == "" {
			possible = e164
		}
	}
	if possible != "" {
		return possible
	}
	return s
}

// ValidateE164 reports whether s is a phone number in E.164 form that can
// exist: a '+', a country code that is assigned, and as many digits as a
// number of that country can have (libphonenumber's "possible number"),
// nothing else. Numbers written another way can be converted with
// NormalizeNumber first. A possible number costs about 40 ns and no
// allocation; libphonenumber's full parse (about 10 µs) runs only to word
// an error, or when the national part could begin with the country's
// national prefix, which libphonenumber would try to strip (about 9% of
// possible numbers).
func ValidateE164(s string) error {
	if fastPossibleE164(s) {
		return nil
	}
	return validateE164Slow(s)
}

// validateE164Slow is ValidateE164 through libphonenumber's full parse: it
// decides every number fastPossibleE164 cannot, and words the errors.
func validateE164Slow(s string) error {
	if s == "" {
		return fmt.Errorf("phone number is empty; want E.164 such as +14155550100")
	}
	if s[0] != '+' {
		return fmt.Errorf("phone number %q must start with '+' and the country code (E.164, e.g. +14155550100; telephony.NormalizeNumber converts other forms)", s)
	}
	digits := s[1:]
	if len(digits) < 2 || len(digits) > 15 {
		return fmt.Errorf("phone number %q must have 2 to 15 digits after '+' (E.164)", s)
	}
	if digits[0] == '0' {
		return fmt.Errorf("phone number %q: the country code cannot start with 0 (E.164)", s)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return fmt.Errorf("phone number %q may hold only digits after '+' (E.164: no spaces, dashes or brackets; telephony.NormalizeNumber removes them)", s)
		}
	}
	n, err := phonenumbers.Parse(s, "")
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return fmt.Errorf("phone number %q: no country has the calling code it starts with; check the country code", s)
	case err != nil:
		return fmt.Errorf("phone number %q is too short to be a phone number; check the digits", s)
	}
	switch phonenumbers.IsPossibleNumberWithReason(n) {
	case phonenumbers.IS_POSSIBLE:
		return nil
	case phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return fmt.Errorf("phone number %q can only be dialled locally: add the area code after +%d", s, n.GetCountryCode())
	case phonenumbers.INVALID_COUNTRY_CODE:
		return fmt.Errorf("phone number %q: no country has the calling code it starts with; check the country code", s)
	case phonenumbers.TOO_SHORT:
		return fmt.Errorf("phone number %q is too short for country code +%d; check the digits", s, n.GetCountryCode())
	case phonenumbers.TOO_LONG:
		return fmt.Errorf("phone number %q is too long for country code +%d; check the digits", s, n.GetCountryCode())
	default:
		return fmt.Errorf("phone number %q has a length no number of country code +%d has; check the digits", s, n.GetCountryCode())
	}
}
