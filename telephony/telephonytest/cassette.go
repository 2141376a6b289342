package telephonytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
)

// A Cassette is a recorded list of HTTP exchanges with a provider, stored as
// JSON. Record real traffic once with a Recorder, commit the file, and
// replay it offline in unit tests with a Replayer. Credentials are scrubbed
// before anything is written.
type Cassette struct {
	Interactions []Interaction `json:"interactions"`
}

// Interaction is one request and its response.
type Interaction struct {
	Request  RecordedRequest  `json:"request"`
	Response RecordedResponse `json:"response"`
}

// RecordedRequest is the part of a request a replay matches on.
type RecordedRequest struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`            // escaped path
	Query  string          `json:"query,omitempty"` // canonical (sorted) query
	Header http.Header     `json:"header,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
}

// RecordedResponse is what a replay answers.
type RecordedResponse struct {
	Status int             `json:"status"`
	Header http.Header     `json:"header,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
}

// Redacted replaces every scrubbed value.
const Redacted = "REDACTED"

// sensitive reports whether a header, query or JSON field name holds a
// secret.
func sensitive(name string) bool {
	n := strings.ToLower(name)
	if n == "authorization" || n == "cookie" || n == "set-cookie" || n == "proxy-authorization" {
		return true
	}
	for _, s := range []string{"secret", "token", "password", "apikey", "api_key", "api-key", "signature"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// scrubber removes credentials: sensitive headers, query parameters and
// JSON fields, and any literal secret it was given, wherever it appears.
type scrubber struct{ secrets []string }

func (s scrubber) text(v string) string {
	for _, sec := range s.secrets {
		if sec != "" {
			v = strings.ReplaceAll(v, sec, Redacted)
		}
	}
	return v
}

func (s scrubber) header(h http.Header) http.Header {
	out := http.Header{}
	for k, vs := range h {
		for _, v := range vs {
			if sensitive(k) {
				v = Redacted
			}
			out.Add(k, s.text(v))
		}
	}
	return out
}

func (s scrubber) query(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := url.Values{}
	for _, k := range keys {
		for _, v := range q[k] {
			if sensitive(k) {
				v = Redacted
			}
			out.Add(k, s.text(v))
		}
	}
	return out.Encode()
}

func (s scrubber) body(b []byte) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		// Not JSON (a JWT, say): keep it as a JSON string.
		enc, _ := json.Marshal(s.text(string(b)))
		return enc
	}
	enc, _ := json.Marshal(s.value(v))
	return enc
}

func (s scrubber) value(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if sensitive(k) {
				if _, isObj := x.(map[string]any); !isObj {
					t[k] = Redacted
					continue
				}
			}
			t[k] = s.value(x)
		}
	case []any:
		for i := range t {
			t[i] = s.value(t[i])
		}
	case string:
		return s.urlValue(s.text(t))
	}
	return v
}

// urlValue scrubs the sensitive query parameters of a string that is a URL
// (a callback_url carrying a token, say).
func (s scrubber) urlValue(v string) string {
	if !strings.Contains(v, "?") || !strings.Contains(v, "://") {
		return v
	}
	u, err := url.Parse(v)
	if err != nil || u.RawQuery == "" {
		return v
	}
	q := u.Query()
	changed := false
	for k := range q {
		if sensitive(k) {
			q[k] = []string{Redacted}
			changed = true
		}
	}
	if !changed {
		return v
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Recorder is an http.RoundTripper that forwards requests to a real
// transport and records each exchange, scrubbed. Use it with
// telephony.WithHTTPClient(rec.Client()) and call Save when done.
type Recorder struct {
	next  http.RoundTripper
	scrub scrubber
	mu    sync.Mutex
	cas   Cassette
}

// NewRecorder records exchanges sent through next (nil: the default
// transport). secrets are literal values (API keys, tokens) to scrub
// wherever they appear, on top of every sensitive header, query parameter
// and JSON field.
func NewRecorder(next http.RoundTripper, secrets ...string) *Recorder {
	if next == nil {
		next = http.DefaultTransport
	}
	return &Recorder{next: next, scrub: scrubber{secrets: secrets}}
}

// Client returns an *http.Client that records through r.
func (r *Recorder) Client() *http.Client { return &http.Client{Transport: r} }

// RoundTrip implements http.RoundTripper.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	in := Interaction{
		Request: RecordedRequest{Method: req.Method, Path: req.URL.EscapedPath(), Query: r.scrub.query(req.URL.Query()),
			Header: r.scrub.header(req.Header), Body: r.scrub.body(reqBody)},
		Response: RecordedResponse{Status: resp.StatusCode, Header: r.scrub.header(resp.Header), Body: r.scrub.body(respBody)},
	}
	r.mu.Lock()
	r.cas.Interactions = append(r.cas.Interactions, in)
	r.mu.Unlock()
	return resp, nil
}

// Cassette returns a copy of what was recorded so far.
func (r *Recorder) Cassette() Cassette {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Cassette{Interactions: append([]Interaction(nil), r.cas.Interactions...)}
}

// Save writes the recording to path as indented JSON.
func (r *Recorder) Save(path string) error {
	data, err := json.MarshalIndent(r.Cassette(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// Replayer is an http.RoundTripper that answers from a cassette, offline.
// A request matches an interaction with the same method, path, query and
// JSON body (compared after the same scrubbing the recorder applied);
// interactions are used in order, each once. A request that was never
// recorded fails with an error naming it.
type Replayer struct {
	mu    sync.Mutex
	cas   Cassette
	used  []bool
	scrub scrubber
}

// ErrNotRecorded is matched by the error of a request the cassette lacks.
var ErrNotRecorded = errors.New("telephonytest: request not recorded in the cassette")

// NewReplayer loads a cassette file. secrets are the values the recording
// scrubbed, if any were given to the Recorder (so that requests carrying
// them still match).
func NewReplayer(path string, secrets ...string) (*Replayer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cas Cassette
	if err := json.Unmarshal(data, &cas); err != nil {
		return nil, fmt.Errorf("telephonytest: cassette %s: %w", path, err)
	}
	return &Replayer{cas: cas, used: make([]bool, len(cas.Interactions)), scrub: scrubber{secrets: secrets}}, nil
}

// Client returns an *http.Client that replays from r.
func (r *Replayer) Client() *http.Client { return &http.Client{Transport: r} }

// RoundTrip implements http.RoundTripper.
func (r *Replayer) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	path, query, jb := req.URL.EscapedPath(), r.scrub.query(req.URL.Query()), canonical(r.scrub.body(body))
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, in := range r.cas.Interactions {
		q := in.Request
		if r.used[i] || q.Method != req.Method || q.Path != path || q.Query != query || canonical(q.Body) != jb {
			continue
		}
		r.used[i] = true
		resp := &http.Response{
			StatusCode: in.Response.Status, Status: fmt.Sprintf("%d %s", in.Response.Status, http.StatusText(in.Response.Status)),
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: in.Response.Header.Clone(), Body: io.NopCloser(bytes.NewReader(in.Response.Body)),
			ContentLength: int64(len(in.Response.Body)), Request: req,
		}
		if resp.Header == nil {
			resp.Header = http.Header{}
		}
		return resp, nil
	}
	return nil, fmt.Errorf("%w: %s %s?%s body=%s", ErrNotRecorded, req.Method, path, query, jb)
}

// Unused returns the interactions never replayed, for tests that want to
// check the whole cassette was exercised.
func (r *Replayer) Unused() []RecordedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []RecordedRequest
	for i, in := range r.cas.Interactions {
		if !r.used[i] {
			out = append(out, in.Request)
		}
	}
	return out
}

// canonical re-encodes JSON so that key order and spacing do not matter.
func canonical(b json.RawMessage) string {
	if len(b) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}
