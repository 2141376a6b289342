package justcall_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/telephony"
)

// A click-to-call POST answered 2xx whose answer cannot be used — empty,
// not JSON, cut short, or without a call id — has reached JustCall: the
// phone may ring. The error is ErrOutcomeUnknown and one request went out.
func TestMakeUnusable2xxIsOutcomeUnknown(t *testing.T) {
	for name, body := range map[string]string{
		"empty":      ``,
		"not json":   `<html>ok</html>`,
		"cut short":  `{"status":"success","data":{"call_id":"CA`,
		"no call id": `{"status":"success","message":"ok","data":{}}`,
	} {
		t.Run(name, func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				_, _ = w.Write([]byte(body))
			}))
			defer srv.Close()
			c, err := justcall.New("answers-key", "answers-secret", telephony.WithBaseURL(srv.URL),
				telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond), telephony.WithRateLimit(rate.Inf, 1))
			require.NoError(t, err)
			call, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: "+14155550100", To: "+14155550123"})
			require.Error(t, err)
			assert.Nil(t, call)
			assert.ErrorIs(t, err, telephony.ErrOutcomeUnknown)
			assert.EqualValues(t, 1, n.Load(), "requests seen")
		})
	}
}
