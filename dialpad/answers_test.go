package dialpad_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/telephony"
)

// answering is a server that answers every request 200 with body.
func answering(t *testing.T, body string) *dialpad.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := dialpad.New("dialpad-answers-test-key", telephony.WithBaseURL(srv.URL),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond), telephony.WithRateLimit(rate.Inf, 1))
	require.NoError(t, err)
	return c
}

// A 2xx that is empty, or about another router, is not a router.
func TestCallRoutersGetRejectsEmptyOrForeignAnswer(t *testing.T) {
	for name, body := range map[string]string{
		"empty":          ``,
		"router -1":      `{"id":-1,"name":"x"}`,
		"another router": `{"id":2,"name":"x"}`,
		"no id":          `{"name":"x"}`,
	} {
		t.Run(name, func(t *testing.T) {
			r, err := answering(t, body).CallRouters.Get(t.Context(), 1)
			require.Error(t, err)
			assert.Nil(t, r)
			assert.ErrorIs(t, err, telephony.ErrBadResponse)
		})
	}
	r, err := answering(t, `{"id":1,"name":"ok"}`).CallRouters.Get(t.Context(), 1)
	require.NoError(t, err)
	assert.EqualValues(t, 1, r.ID)
}

// An update answered 2xx with no usable router did reach Dialpad: it is
// ErrOutcomeUnknown, not a plain bad response.
func TestCallRoutersUpdateUnusableAnswer(t *testing.T) {
	name := "renamed"
	_, err := answering(t, ``).CallRouters.Update(t.Context(), 7, dialpad.UpdateCallRouterRequest{Name: &name})
	require.Error(t, err)
	assert.ErrorIs(t, err, telephony.ErrOutcomeUnknown)
}
