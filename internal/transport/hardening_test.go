package transport

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/telephony"
)

// partialBody answers 200 with the start of a JSON body, flushes it, and
// never sends the rest until the client goes away.
func partialBody(w http.ResponseWriter, r *http.Request) {
	_, _ = drainRequest(r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "100")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"data":{"call_id":"CA`))
	w.(http.Flusher).Flush()
	<-r.Context().Done()
}

func drainRequest(r *http.Request) (int64, error) {
	var buf [512]byte
	var n int64
	for {
		k, err := r.Body.Read(buf[:])
		n += int64(k)
		if err != nil {
			return n, nil
		}
	}
}

// A context that ends while a 2xx body is arriving: after a call-placing
// POST the provider already acted, so the error is ErrOutcomeUnknown and
// matches the context's error; after a GET it matches the context's error
// and is not a bad response.
func TestContextEndsWhileBodyArrives(t *testing.T) {
	srv, n := counting(partialBody)
	defer srv.Close()
	c := newTestClient(t, srv.URL)

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	var out map[string]any
	_, err := c.Do(ctx, &Request{Method: http.MethodPost, Path: "/v2/calls/make", Body: map[string]string{"to": "+14155550100"}, Out: &out})
	t.Logf("POST, context ends mid-body: requests seen=%d err=%v", n.Load(), err)
	require.Error(t, err)
	assert.ErrorIs(t, err, telephony.ErrOutcomeUnknown)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualValues(t, 1, n.Load(), "requests seen")
	var te *telephony.Error
	require.ErrorAs(t, err, &te)
	assert.Equal(t, http.StatusOK, te.StatusCode)

	ctx2, cancel2 := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel2()
	_, err = c.Do(ctx2, &Request{Method: http.MethodGet, Path: "/v1/users", Out: &out})
	t.Logf("GET, context ends mid-body: err=%v", err)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, telephony.ErrBadResponse)
	assert.NotErrorIs(t, err, telephony.ErrOutcomeUnknown)
}

// Any 2xx whose body cannot be used after a POST is ErrOutcomeUnknown: the
// provider acted. After a GET it is ErrBadResponse.
func TestUnusable2xxAfterPOSTIsOutcomeUnknown(t *testing.T) {
	bodies := map[string]string{"malformed": `{"data": [`, "empty": ``, "blank": " \n"}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			srv, n := counting(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) })
			defer srv.Close()
			c := newTestClient(t, srv.URL)
			var out map[string]any
			_, err := c.Do(t.Context(), &Request{Method: http.MethodPost, Path: "/v2/calls/make", Body: map[string]string{"to": "+1"}, Out: &out})
			require.Error(t, err)
			assert.ErrorIs(t, err, telephony.ErrOutcomeUnknown)
			assert.EqualValues(t, 1, n.Load(), "requests seen")
			_, err = c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/v1/x", Out: &out})
			require.Error(t, err)
			assert.ErrorIs(t, err, telephony.ErrBadResponse)
			assert.NotErrorIs(t, err, telephony.ErrOutcomeUnknown)
		})
	}
}

// A 2xx with an empty body is not success where a body is required;
// AllowEmpty accepts it.
func TestEmptyBodyWhereRequired(t *testing.T) {
	srv, _ := counting(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	var out struct{ ID int64 }
	_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/api/v2/callrouters/1", Out: &out})
	require.Error(t, err)
	assert.ErrorIs(t, err, telephony.ErrBadResponse)
	assert.Contains(t, err.Error(), "no body")

	_, err = c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/api/v2/callrouters/1", Out: &out, AllowEmpty: true})
	assert.NoError(t, err)
}

// Request.Check rejects an answer about another object.
func TestCheckRejectsAnotherObject(t *testing.T) {
	srv, _ := counting(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"id":-1}`)) })
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	var out struct {
		ID int64 `json:"id"`
	}
	check := func() error {
		if out.ID != 1 {
			return fmt.Errorf("asked for 1, got %d", out.ID)
		}
		return nil
	}
	_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x/1", Out: &out, Check: check})
	require.Error(t, err)
	assert.ErrorIs(t, err, telephony.ErrBadResponse)
	assert.Contains(t, err.Error(), "asked for 1, got -1")
}

// A provider or proxy echoing the Authorization value (in the body, in a
// JSON-escaped or decoded form, or in the request-id header) leaves no
// credential in any part or formatting of the error.
func TestEchoedCredentialsScrubbed(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte("aircallApiID42:aircallT0ken/with+chars"))
	cases := []struct {
		name, credential, header string
		secrets                  []string
	}{
		{"justcall key:secret", "jcKey12345:jcSecret67890", "jcKey12345:jcSecret67890", []string{"jcKey12345", "jcSecret67890"}},
		{"dialpad bearer", "dpApiKeyABCDEF123456", "Bearer dpApiKeyABCDEF123456", []string{"dpApiKeyABCDEF123456"}},
		{"aircall basic", "aircallApiID42:aircallT0ken/with+chars", "Basic " + basic, []string{basic, "aircallT0ken/with+chars", "aircallApiID42"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := counting(func(w http.ResponseWriter, r *http.Request) {
				auth := r.Header.Get("Authorization")
				w.Header().Set("X-Request-Id", "req-"+auth)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				decoded := ""
				if b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(auth, "Basic ")); err == nil {
					decoded = string(b)
				}
				escaped := strings.ReplaceAll(auth, "/", `\/`)
				_, _ = fmt.Fprintf(w, `{"message":"invalid credentials %s","header":"%s","decoded":"%s"}`, auth, escaped, decoded)
			})
			defer srv.Close()
			c := newTestClientCfg(t, srv.URL, func(cfg *Config) {
				cfg.Credential = tc.credential
				cfg.Authorize = func(h http.Header) { h.Set("Authorization", tc.header) }
			})
			_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/v1/users"})
			require.Error(t, err)
			var te *telephony.Error
			require.ErrorAs(t, err, &te)
			require.ErrorIs(t, err, telephony.ErrUnauthorized)
			views := map[string]string{
				"Error()": err.Error(), "%v": fmt.Sprintf("%v", err), "%+v": fmt.Sprintf("%+v", err),
				"%#v": fmt.Sprintf("%#v", te), "Message": te.Message, "Body": string(te.Body), "RequestID": te.RequestID,
			}
			for view, s := range views {
				for _, secret := range append([]string{tc.header}, tc.secrets...) {
					assert.NotContains(t, s, secret, "%s holds a credential", view)
				}
			}
			assert.Contains(t, te.Message, "invalid credentials [REDACTED]")
			t.Logf("%s: %v", tc.name, err)
		})
	}
}

// http.Client.Timeout is kept per attempt without the client's timer: a
// request without a caller deadline whose answer never completes still
// ends, with an error matching context.DeadlineExceeded, and a GET is
// tried again after it.
func TestClientTimeoutWithoutCallerDeadline(t *testing.T) {
	srv, n := counting(partialBody)
	defer srv.Close()
	c := newTestClient(t, srv.URL, telephony.WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}),
		telephony.WithMaxAttempts(2))
	var out map[string]any
	_, err := c.Do(context.Background(), &Request{Method: http.MethodGet, Path: "/v1/users", Out: &out})
	t.Logf("GET, body never completes, Client.Timeout 100ms: requests seen=%d err=%v", n.Load(), err)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "Client.Timeout")

	// Headers that never come: both attempts time out.
	hang, m := counting(func(w http.ResponseWriter, r *http.Request) {
		_, _ = drainRequest(r) // the server notices a closed connection only once the body is read
		<-r.Context().Done()
	})
	defer hang.Close()
	c2 := newTestClient(t, hang.URL, telephony.WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}),
		telephony.WithMaxAttempts(2))
	_, err = c2.Do(context.Background(), &Request{Method: http.MethodGet, Path: "/v1/users", Out: &out})
	t.Logf("GET, no headers, Client.Timeout 100ms: requests seen=%d err=%v", m.Load(), err)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualValues(t, 2, m.Load(), "a timed-out GET is tried again")
	var te *telephony.Error
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 2, te.Attempts)

	// A POST that timed out is not sent again.
	_, err = c2.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/v2/calls/make", Body: map[string]string{"to": "+1"}})
	require.Error(t, err)
	assert.ErrorIs(t, err, telephony.ErrOutcomeUnknown)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualValues(t, 3, m.Load(), "one more request")
}

// Rate-limit and request-id header names given in any case are found.
func TestHeaderNamesAnyCase(t *testing.T) {
	srv, _ := counting(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-My-Request-ID", "rid-7")
		http.Error(w, `{"message":"nope"}`, http.StatusBadRequest)
	})
	defer srv.Close()
	c := newTestClientCfg(t, srv.URL, func(cfg *Config) { cfg.RequestIDHeaders = []string{"x-my-request-id"} })
	_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x"})
	var te *telephony.Error
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "rid-7", te.RequestID)
	assert.True(t, errors.Is(err, telephony.ErrInvalidRequest))
}
