// Package jsonx holds JSON types for provider fields whose encoding varies:
// ids that arrive as numbers in one document and as numeric strings in
// another (Dialpad's routing guide shows "123456", its OpenAPI int64).
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
		s, err := unquote(b)
		if err != nil {
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
		v, err := unquote(b)
		if err != nil {
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

// unquote decodes a JSON string literal. Ids rarely hold an escape or a
// non-ASCII byte, so plain ASCII is sliced out directly; anything else goes
// through encoding/json (escapes, UTF-8 validation).
func unquote(b []byte) (string, error) {
	if len(b) >= 2 && b[len(b)-1] == '"' {
		plain := true
		for _, c := range b[1 : len(b)-1] {
			if c == '\\' || c == '"' || c < 0x20 || c >= 0x80 {
				plain = false
				break
			}
		}
		if plain {
			return string(b[1 : len(b)-1]), nil
		}
	}
	var v string
	err := json.Unmarshal(b, &v)
	return v, err
}
