// Package jsonx holds JSON types for provider fields whose encoding varies:
// ids that arrive as numbers in one document and as numeric strings in
// another (Dialpad's seed shows "123456", its OpenAPI int64).
package jsonx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Int64 decodes from a JSON number, a numeric string, null or "" (zero). It
// encodes as a JSON number.
type Int64 int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int64) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*n = 0
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*n = 0
			return nil
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("id %q is not an integer", s)
		}
		*n = Int64(v)
		return nil
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("id %s is not an integer", b)
	}
	*n = Int64(v)
	return nil
}

// String decodes from a JSON string, a number (kept as written) or null.
type String string

// UnmarshalJSON implements json.Unmarshaler.
func (s *String) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = String(v)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var num json.Number
		if err := json.Unmarshal(b, &num); err != nil {
			return err
		}
		*s = String(num.String())
	default:
		return fmt.Errorf("want a string or number, got %.20s", b)
	}
	return nil
}

// Bool decodes from a JSON bool or the strings "Yes"/"No", "true"/"false",
// "1"/"0" (JustCall sends availability as "Yes"/"No").
type Bool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *Bool) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch string(bytes.ToLower(bytes.Trim(b, `"`))) {
	case "true", "yes", "1", "y", "on":
		*v = true
	case "false", "no", "0", "n", "off", "", "null":
		*v = false
	default:
		return fmt.Errorf("want a boolean or Yes/No, got %.20s", b)
	}
	return nil
}
