package transport

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/telephony"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var credSeq atomic.Int64

// newTestClient builds a transport client against url with a credential of
// its own, so tests never share an account.
func newTestClient(t testing.TB, url string, opts ...telephony.Option) *Client {
	t.Helper()
	return newTestClientCfg(t, url, nil, opts...)
}

func newTestClientCfg(t testing.TB, url string, edit func(*Config), opts ...telephony.Option) *Client {
	t.Helper()
	all := append([]telephony.Option{telephony.WithBaseURL(url), telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond)}, opts...)
	s, err := telephony.NewSettings(all...)
	require.NoError(t, err)
	cred := fmt.Sprintf("apiKey123:apiSecret456#%d", credSeq.Add(1))
	cfg := Config{
		Provider:   "test",
		Credential: cred,
		Authorize:  func(h http.Header) { h.Set("Authorization", "apiKey123:apiSecret456") },
		Settings:   s,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(c.http.CloseIdleConnections)
	return c
}

// counting wraps h and counts the requests that reached it.
func counting(h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	return srv, &n
}

// resetAfterBody reads the request and drops the connection unanswered.
func resetAfterBody(w http.ResponseWriter, r *http.Request) {
	_, _ = io.ReadAll(r.Body)
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("no hijacker")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func post(ctx context.Context, c *Client) error {
	_, err := c.Do(ctx, &Request{Method: http.MethodPost, Path: "/v2/calls/make", Body: map[string]string{"to": "+14155550100"}})
	return err
}
