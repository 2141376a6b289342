package jsonx

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestInt64(t *testing.T) {
	var v struct {
		A, B, C, D Int64
	}
	require.NoError(t, json.Unmarshal([]byte(`{"A":123456,"B":"223456","C":null,"D":""}`), &v))
	assert.Equal(t, Int64(123456), v.A, "%+v", v)
	assert.Equal(t, Int64(223456), v.B, "%+v", v)
	assert.Equal(t, Int64(0), v.C, "%+v", v)
	assert.Equal(t, Int64(0), v.D, "%+v", v)
	assert.Error(t, json.Unmarshal([]byte(`{"A":"generated id"}`), &v), "non-numeric id accepted")
	out, _ := json.Marshal(Int64(42))
	assert.Equal(t, "42", string(out))
}

func TestStringAndBool(t *testing.T) {
	var v struct {
		S1, S2 String
		B1, B2 Bool
		B3     Bool
	}
	require.NoError(t, json.Unmarshal([]byte(`{"S1":"call_8f3a2b1c","S2":42,"B1":"Yes","B2":"No","B3":true}`), &v))
	assert.Equal(t, String("call_8f3a2b1c"), v.S1, "%+v", v)
	assert.Equal(t, String("42"), v.S2, "%+v", v)
	assert.True(t, bool(v.B1), "B1: %+v", v)
	assert.False(t, bool(v.B2), "B2: %+v", v)
	assert.True(t, bool(v.B3), "B3: %+v", v)
	assert.Error(t, json.Unmarshal([]byte(`{"B1":"maybe"}`), &v), "bad bool accepted")
}

func TestEscapedStrings(t *testing.T) {
	var v struct{ S String }
	require.NoError(t, json.Unmarshal([]byte(`{"S":"a\"b\u00e9\n"}`), &v))
	assert.Equal(t, String("a\"b\u00e9\n"), v.S)
	var n struct{ N Int64 }
	require.NoError(t, json.Unmarshal([]byte(`{"N":"\u0034\u0032"}`), &n))
	assert.Equal(t, Int64(42), n.N)
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
		if w, ok := want.(string); ok {
			require.NoError(t, errGot, "%q: got %q; encoding/json says %q", in, got, w)
			assert.Equal(t, w, string(got), "%q: got %q, %v; encoding/json says %q", in, got, errGot, w)
		}
	})
}
