package telephony

import (
	"regexp"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// A fast, allocation-free answer to "is this a possible E.164 number?" for
// the common case, so that validating every number a call carries does not
// cost libphonenumber's full parse (about 50 allocations and several
// microseconds per number: more than the HTTP request it guards).
//
// It reads the same metadata libphonenumber does and answers only "yes,
// certainly": every other case (an error to word, a number whose national
// part could start with a national prefix, which libphonenumber would try
// to strip) goes to the full parse, so ValidateE164 and NormalizeNumber
// answer exactly as before. TestFastE164AgreesWithLibphonenumber and
// FuzzFastE164 hold the two paths together.

// ccInfo is what the length check needs of one country calling code.
type ccInfo struct {
	// slow: the code exists but its metadata could not be read here, so
	// every number of it takes the full parse.
	slow bool
	// anyLength: the metadata has no national number pattern, so
	// libphonenumber accepts any national number of 2 to 17 digits.
	anyLength bool
	lengths   []int32 // possible lengths of the national number, ascending
	localOnly []int32 // lengths dialable only locally (never "possible")
	// prefix matches the start of a national number that libphonenumber
	// would try to strip as a national prefix; nil when it has none.
	prefix *regexp.Regexp
}

// ccTable holds one entry per country calling code (they are below 1000),
// nil for the codes no country has. It is built once, on first use.
var ccTable = sync.OnceValue(func() *[1000]*ccInfo {
	var t [1000]*ccInfo
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return &t // every number then takes the full parse
	}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		if cc <= 0 || cc >= len(t) {
			continue
		}
		t[cc] = &ccInfo{slow: true} // until its metadata is read below
		// The metadata libphonenumber uses for a number of this calling
		// code: that of its main region, or the non-geographic entity's.
		region := phonenumbers.GetRegionCodeForCountryCode(cc)
		for _, m := range coll.GetMetadata() {
			if m.GetId() != region || (region == "001" && int(m.GetCountryCode()) != cc) {
				continue
			}
			gd := m.GetGeneralDesc()
			info := &ccInfo{
				anyLength: gd.GetNationalNumberPattern() == "",
				lengths:   gd.GetPossibleLength(),
				localOnly: gd.GetPossibleLengthLocalOnly(),
			}
			if p := m.GetNationalPrefixForParsing(); p != "" {
				re, err := regexp.Compile("^(?:" + p + ")")
				if err != nil {
					break // stays slow: the full parse decides
				}
				info.prefix = re
			}
			t[cc] = info
			break
		}
	}
	return &t
})

// fastPossibleE164 reports true only when s is certainly an E.164 number
// ValidateE164 accepts and NormalizeNumber returns unchanged: '+', a
// calling code, and a national number of a possible length for it that
// libphonenumber would not try to strip a national prefix from. False means
// "ask libphonenumber", not "invalid".
func fastPossibleE164(s string) bool {
	// '+' and 3 to 15 digits (libphonenumber wants more than two after
	// the '+'), the first not 0.
	if len(s) < 4 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	t := ccTable()
	cc := 0
	for n := 1; n <= 3; n++ {
		cc = cc*10 + int(s[n]-'0')
		info := t[cc]
		if info == nil {
			continue // no such code: try a longer one, as libphonenumber does
		}
		return info.possible(s[1+n:])
	}
	return false
}

// possible mirrors libphonenumber's length test for a national number
// (testNumberLength with the general description), after ruling out the
// national-prefix stripping its parser would attempt first.
func (c *ccInfo) possible(nsn string) bool {
	if c.slow || len(nsn) < 2 {
		return false
	}
	if c.prefix != nil && c.prefix.MatchString(nsn) {
		return false
	}
	if c.anyLength {
		return len(nsn) <= 17
	}
	if len(c.lengths) == 0 || c.lengths[0] == -1 {
		return false
	}
	n := int32(len(nsn))
	for _, l := range c.localOnly {
		if l == n {
			return false
		}
	}
	for _, l := range c.lengths {
		if l == n {
			return true
		}
	}
	return false
}
