package jsonx

import (
	"encoding/json"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestInt64(t *testing.T) {
	var v struct {
		A, B, C, D Int64
	}
	if err := json.Unmarshal([]byte(`{"A":123456,"B":"223456","C":null,"D":""}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 123456 || v.B != 223456 || v.C != 0 || v.D != 0 {
		t.Fatalf("%+v", v)
	}
	if err := json.Unmarshal([]byte(`{"A":"generated id"}`), &v); err == nil {
		t.Fatal("non-numeric id accepted")
	}
	out, _ := json.Marshal(Int64(42))
	if string(out) != "42" {
		t.Fatal(string(out))
	}
}

func TestStringAndBool(t *testing.T) {
	var v struct {
		S1, S2 String
		B1, B2 Bool
		B3     Bool
	}
	if err := json.Unmarshal([]byte(`{"S1":"call_8f3a2b1c","S2":42,"B1":"Yes","B2":"No","B3":true}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.S1 != "call_8f3a2b1c" || v.S2 != "42" || !bool(v.B1) || bool(v.B2) || !bool(v.B3) {
		t.Fatalf("%+v", v)
	}
	if err := json.Unmarshal([]byte(`{"B1":"maybe"}`), &v); err == nil {
		t.Fatal("bad bool accepted")
	}
}

func TestEscapedStrings(t *testing.T) {
	var v struct{ S String }
	if err := json.Unmarshal([]byte(`{"S":"a\"b\u00e9\n"}`), &v); err != nil || v.S != "a\"b\u00e9\n" {
		t.Fatalf("%q %v", v.S, err)
	}
	var n struct{ N Int64 }
	if err := json.Unmarshal([]byte(`{"N":"\u0034\u0032"}`), &n); err != nil || n.N != 42 {
		t.Fatalf("%d %v", n.N, err)
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{`"call_8f3a2b1c"`, `"a\"b"`, `42`, `null`, `"\u00e9"`, `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var got String
		var want any
		errGot := got.UnmarshalJSON([]byte(in))
		if json.Unmarshal([]byte(in), &want) != nil {
			return
		}
		if w, ok := want.(string); ok && (errGot != nil || string(got) != w) {
			t.Fatalf("%q: got %q, %v; encoding/json says %q", in, got, errGot, w)
		}
	})
}
