package telephony_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/telephony"
)

// TestNormalizeNumber: the forms providers send become E.164 (JustCall's
// country code without '+', Aircall's spaces); what is not a number stays
// as it came.
func TestNormalizeNumber(t *testing.T) {
	for in, want := range map[string]string{
		"16813812345":         "+16813812345",  // JustCall contact_number
		"+1 415-555-0100":     "+14155550100",  // Aircall display form
		"+33 1 76 36 06 95":   "+33176360695",  // Aircall display form
		"+1 (415) 555-0100":   "+14155550100",  //
		"(415) 555-0100":      "+14155550100",  // national, default region US
		"4155550100":          "+14155550100",  //
		"447700900123":        "+447700900123", // JustCall, a UK mobile
		"919876543210":        "+919876543210", // JustCall, an Indian mobile
		"+14155550100":        "+14155550100",  // already E.164
		" +442071838750 ":     "+442071838750", //
		"anonymous":           "anonymous",
		"1001":                "1001", // an extension
		"":                    "",
		"+999 1234":           "+999 1234", // no such country
		"+1 415-555-0100 x12": "+14155550100",
	} {
		assert.Equal(t, want, telephony.NormalizeNumber(in), "NormalizeNumber(%q)", in)
	}
}

// TestSetDefaultRegion: numbers without a country code are read in the
// region the user sets; an unknown region is refused and changes nothing.
func TestSetDefaultRegion(t *testing.T) {
	require.Equal(t, "US", telephony.DefaultRegion(), "the default region")
	t.Cleanup(func() { require.NoError(t, telephony.SetDefaultRegion(telephony.DefaultRegionCode)) })

	require.NoError(t, telephony.SetDefaultRegion("fr"))
	assert.Equal(t, "FR", telephony.DefaultRegion())
	assert.Equal(t, "+33176360695", telephony.NormalizeNumber("01 76 36 06 95"), "French national form")
	assert.Equal(t, "+33612345678", telephony.NormalizeNumber("33612345678"), "country code without '+'")
	assert.Equal(t, "+16813812345", telephony.NormalizeNumber("16813812345"), "a US number without '+' outside the region")

	err := telephony.SetDefaultRegion("XX")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ISO 3166-1")
	assert.Equal(t, "FR", telephony.DefaultRegion(), "a refused region changes nothing")
}

// TestValidateE164PossibleNumbers: a number we send must be a possible
// number of its country, not only '+' and digits.
func TestValidateE164PossibleNumbers(t *testing.T) {
	for _, ok := range []string{"+14155550100", "+442071838750", "+33612345678", "+919876543210", "+6591234567"} {
		assert.NoError(t, telephony.ValidateE164(ok), ok)
	}
	for bad, why := range map[string]string{
		"+12":              "too short",
		"+14155550":        "can only be dialled locally",
		"+1415555":         "too short",
		"+141555501001":    "too long",
		"+4412":            "too short",
		"+99912345678":     "no country has the calling code",
		"14155550100":      "must start with '+'",
		"+1 415 555 0100":  "only digits",
		"+0123":            "cannot start with 0",
		"+123456789012345": "too long",
	} {
		err := telephony.ValidateE164(bad)
		if assert.Error(t, err, bad) {
			assert.Contains(t, err.Error(), why, bad)
		}
	}
}
