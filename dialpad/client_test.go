package dialpad_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
)

func TestNewRejectsBadKey(t *testing.T) {
	_, err := dialpad.New("  ")
	isErr(t, err, telephony.ErrInvalidRequest)
	_, err = dialpad.New("a\nb")
	isErr(t, err, telephony.ErrInvalidRequest)
}

func TestDefaultBaseURL(t *testing.T) {
	c, err := dialpad.New("key")
	ok(t, err)
	eq(t, "BaseURL", c.BaseURL(), "https://dialpad.com")
}

func TestBearerHeaderAndNoKeyInURL(t *testing.T) {
	c, srv := newTestClient(t)
	srv.SeedUsers(3)
	for _, err := range c.Users.List(t.Context(), nil) {
		ok(t, err)
	}
	_, _ = c.CallRouters.Get(t.Context(), 1)
	reqs := srv.Requests()
	require.Len(t, reqs, 2, "requests")
	for _, r := range reqs {
		eq(t, "Authorization", r.Authorization, "Bearer "+dialpadtest.APIKey)
		assert.False(t, r.APIKeyInURL, "%s %s?%s: the key must never be in the URL", r.Method, r.Path, r.Query)
		assert.NotContains(t, r.Query, dialpadtest.APIKey, "%s %s?%s: the key must never be in the URL", r.Method, r.Path, r.Query)
		assert.True(t, strings.HasPrefix(r.Path, "/api/v2/"), "path %q does not start with /api/v2/", r.Path)
	}
}

func TestWrongKeyIsUnauthorizedAndNotLeaked(t *testing.T) {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	const secret = "wrong-key-SECRET-123"
	c, err := dialpad.New(secret, telephony.WithBaseURL(srv.URL()))
	ok(t, err)
	_, err = c.CallRouters.Get(t.Context(), 7)
	isErr(t, err, telephony.ErrUnauthorized)
	eq(t, "status", asTelephony(t, err).StatusCode, 401)
	assert.NotContains(t, err.Error(), secret, "the error contains the API key")
	eq(t, "requests (401 is not retried)", srv.Count("GET", "/api/v2/callrouters"), 1)
}

func TestProviderErrorMessage(t *testing.T) {
	c, _ := newTestClient(t)
	_, err := c.CallRouters.Get(t.Context(), 424242)
	isErr(t, err, telephony.ErrNotFound)
	for _, want := range []string{"Call router not found", "GET /api/v2/callrouters/{id}"} {
		assert.ErrorContains(t, err, want)
	}
}

// The company limit (20/s per API key) is enforced client-side and shared by
// clients of the same key.
func TestCompanyRateLimitShared(t *testing.T) {
	c1, srv := newTestClient(t)
	c2, err := dialpad.New(dialpadtest.APIKey, telephony.WithBaseURL(srv.URL()),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond))
	ok(t, err)
	const n = 50
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		c := c1
		if i%2 == 1 {
			c = c2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.CallRouters.Get(t.Context(), 99); !errors.Is(err, telephony.ErrNotFound) {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	elapsed := time.Since(start)
	for err := range errs {
		assert.ErrorIs(t, err, telephony.ErrNotFound, "request for an unknown router")
	}
	t.Logf("company limit: %d requests from 2 clients sharing one API key took %v (20 at once, then 20/s: about 1.5 s)", n, elapsed.Round(time.Millisecond))
	eq(t, "requests", srv.Count("GET", "/api/v2/callrouters"), n)
	// A lower bound only: the limiter guarantees it, whatever the load.
	assert.GreaterOrEqual(t, elapsed, 1400*time.Millisecond,
		"50 requests took %v; the shared 20/s limiter should need at least 1.5 s", elapsed)
}
