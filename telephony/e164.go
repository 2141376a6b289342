package telephony

import "fmt"

// ValidateE164 reports whether s is a phone number in E.164 form: a '+', a
// non-zero first digit and at most 15 digits in all, nothing else.
func ValidateE164(s string) error {
	if s == "" {
		return fmt.Errorf("phone number is empty; want E.164 such as +14155550100")
	}
	if s[0] != '+' {
		return fmt.Errorf("phone number %q must start with '+' and the country code (E.164, e.g. +14155550100)", s)
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
			return fmt.Errorf("phone number %q may hold only digits after '+' (E.164: no spaces, dashes or brackets)", s)
		}
	}
	return nil
}
