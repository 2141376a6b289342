package telephonytest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/telephony"
)

// Harness adapts one provider's simulator to RunConformance. Each Harness
// wraps a fresh simulator holding no users.
type Harness interface {
	// Client returns a portable client for the simulator, with fast retry
	// backoff for tests.
	Client() *telephony.Client
	// UnauthorizedClient returns a client for the same simulator with
	// credentials it refuses.
	UnauthorizedClient() *telephony.Client
	// SeedUsers adds n agents.
	SeedUsers(n int)
	// UsersPageSize is the page size the portable Users listing asks for.
	UsersPageSize() int
	// UsersPath is the path of the list-users endpoint.
	UsersPath() string
	// FailNext makes the next n API requests answer status, with a
	// Retry-After header when retryAfter is not empty.
	FailNext(status, n int, retryAfter string)
	// Requests counts the API requests received with the method ("" for
	// any) and a path starting with pathPrefix ("" for any).
	Requests(method, pathPrefix string) int
	// DialRequest returns a click-to-call request the simulator accepts
	// (creating the agent and numbers it needs).
	DialRequest() telephony.CallRequest
	// LiveCall creates a call in progress and returns its id and a target
	// it can be transferred to. Called only when the client can transfer.
	LiveCall() (callID string, to telephony.Target)
	// NativeClient returns what As should fill, e.g. new(*dialpad.Client).
	NativeClient() any
}

// RunConformance runs the suite every provider's portable client passes.
// newHarness is called once per subtest and must register its cleanup
// with t.
func RunConformance(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("Provider", func(t *testing.T) {
		switch p := newHarness(t).Client().Provider(); p {
		case telephony.ProviderJustCall, telephony.ProviderDialpad, telephony.ProviderAircall:
		default:
			t.Fatalf("unknown provider name %q", p)
		}
	})
	t.Run("Dial", func(t *testing.T) { testDial(t, newHarness) })
	t.Run("Users", func(t *testing.T) { testUsers(t, newHarness) })
	t.Run("Errors", func(t *testing.T) { testErrors(t, newHarness) })
	t.Run("Transfer", func(t *testing.T) { testTransfer(t, newHarness) })
	t.Run("As", func(t *testing.T) {
		h := newHarness(t)
		c := h.Client()
		native := h.NativeClient()
		if !c.As(native) {
			t.Fatalf("As(%T) = false", native)
		}
		if c.As(nil) {
			t.Fatal("As(nil) = true")
		}
		var wrong *time.Location
		if c.As(&wrong) {
			t.Fatal("As(**time.Location) = true")
		}
	})
}

func testDial(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("success", func(t *testing.T) {
		h := newHarness(t)
		c := h.Client()
		if !c.Capabilities().Dial {
			_, err := c.Dial(t.Context(), telephony.CallRequest{To: "+14155550100"})
			if !errors.Is(err, telephony.ErrUnsupported) {
				t.Fatalf("Dial without the capability: %v", err)
			}
			return
		}
		call, err := c.Dial(t.Context(), h.DialRequest())
		if err != nil {
			t.Fatal(err)
		}
		if call.Provider != c.Provider() || call.Direction != telephony.DirectionOutbound {
			t.Fatalf("call %+v", call)
		}
	})
	t.Run("invalid number sends nothing", func(t *testing.T) {
		h := newHarness(t)
		c := h.Client()
		req := telephony.CallRequest{To: "0415 555 0100", AgentID: "1"}
		if c.Capabilities().Dial {
			req = h.DialRequest()
			req.To = "0415 555 0100"
		}
		before := h.Requests("", "")
		_, err := c.Dial(t.Context(), req)
		if !errors.Is(err, telephony.ErrInvalidRequest) && !errors.Is(err, telephony.ErrUnsupported) {
			t.Fatalf("invalid To: %v", err)
		}
		if n := h.Requests("", "") - before; n != 0 {
			t.Fatalf("%d requests sent for an invalid number", n)
		}
	})
}

func testUsers(t *testing.T, newHarness func(t *testing.T) Harness) {
	count := func(t *testing.T, n int) {
		h := newHarness(t)
		c := h.Client()
		if !c.Capabilities().Users {
			t.Skip("no Users capability")
		}
		h.SeedUsers(n)
		seen := map[string]bool{}
		for u, err := range c.Users(t.Context()) {
			if err != nil {
				t.Fatal(err)
			}
			if u.ID == "" || seen[u.ID] {
				t.Fatalf("bad or repeated user %+v", u)
			}
			seen[u.ID] = true
		}
		if len(seen) != n {
			t.Fatalf("listed %d users, want %d", len(seen), n)
		}
		pages := h.Requests("GET", h.UsersPath())
		t.Logf("%s: %d users listed in %d page requests (page size %d)", c.Provider(), n, pages, h.UsersPageSize())
		if max := n/h.UsersPageSize() + 1; pages > max {
			t.Fatalf("%d page requests for %d users, want at most %d", pages, n, max)
		}
	}
	t.Run("none", func(t *testing.T) { count(t, 0) })
	t.Run("one", func(t *testing.T) { count(t, 1) })
	t.Run("exactly a page", func(t *testing.T) { count(t, newHarness(t).UsersPageSize()) })
	t.Run("many pages", func(t *testing.T) { ps := newHarness(t).UsersPageSize(); count(t, 2*ps+ps/2) })
	t.Run("early break", func(t *testing.T) {
		h := newHarness(t)
		c := h.Client()
		if !c.Capabilities().Users {
			t.Skip("no Users capability")
		}
		h.SeedUsers(3 * h.UsersPageSize())
		for _, err := range c.Users(t.Context()) {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		if n := h.Requests("GET", h.UsersPath()); n != 1 {
			t.Fatalf("%d page requests after breaking on the first user", n)
		}
	})
}

func testErrors(t *testing.T, newHarness func(t *testing.T) Harness) {
	firstErr := func(c *telephony.Client, t *testing.T) error {
		for _, err := range c.Users(t.Context()) {
			return err
		}
		return nil
	}
	t.Run("unauthorized", func(t *testing.T) {
		h := newHarness(t)
		h.SeedUsers(1)
		err := firstErr(h.UnauthorizedClient(), t)
		if !errors.Is(err, telephony.ErrUnauthorized) {
			t.Fatalf("wrong credentials: %v", err)
		}
	})
	for _, tc := range []struct {
		status int
		kind   error
	}{{404, telephony.ErrNotFound}, {401, telephony.ErrUnauthorized}, {400, telephony.ErrInvalidRequest}} {
		t.Run(fmt.Sprintf("status %d", tc.status), func(t *testing.T) {
			h := newHarness(t)
			h.SeedUsers(1)
			h.FailNext(tc.status, 1, "")
			err := firstErr(h.Client(), t)
			var te *telephony.Error
			if !errors.Is(err, tc.kind) || !errors.As(err, &te) || te.StatusCode != tc.status || te.Provider != h.Client().Provider() {
				t.Fatalf("status %d: got %v", tc.status, err)
			}
		})
	}
	t.Run("rate limited", func(t *testing.T) {
		h := newHarness(t)
		h.SeedUsers(1)
		h.FailNext(429, 10, "3600")
		start := time.Now()
		err := firstErr(h.Client(), t)
		var te *telephony.Error
		if !errors.Is(err, telephony.ErrRateLimited) || !errors.As(err, &te) || te.RetryAfter < time.Minute {
			t.Fatalf("429 with Retry-After 3600: %v", err)
		}
		if n := h.Requests("", ""); n != 1 || time.Since(start) > 5*time.Second {
			t.Fatalf("%d requests in %v; want 1 and a fast failure", n, time.Since(start))
		}
	})
	t.Run("retries a transient failure", func(t *testing.T) {
		h := newHarness(t)
		h.SeedUsers(1)
		h.FailNext(503, 1, "")
		if err := firstErr(h.Client(), t); err != nil {
			t.Fatalf("one 503 on a read: %v", err)
		}
	})
}

func testTransfer(t *testing.T, newHarness func(t *testing.T) Harness) {
	h := newHarness(t)
	c := h.Client()
	if !c.Capabilities().Transfer {
		err := c.Transfer(t.Context(), "1", telephony.UserTarget("1"))
		if !errors.Is(err, telephony.ErrUnsupported) || h.Requests("", "") != 0 {
			t.Fatalf("Transfer without the capability: %v", err)
		}
		return
	}
	t.Run("success", func(t *testing.T) {
		h := newHarness(t)
		id, to := h.LiveCall()
		if err := h.Client().Transfer(t.Context(), id, to); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("invalid target sends nothing", func(t *testing.T) {
		h := newHarness(t)
		id, _ := h.LiveCall()
		before := h.Requests("", "")
		err := h.Client().Transfer(t.Context(), id, telephony.Target{Type: telephony.TargetUser, ID: "1", Email: "a@b.c"})
		if !errors.Is(err, telephony.ErrInvalidRequest) || h.Requests("", "") != before {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("unknown call", func(t *testing.T) {
		h := newHarness(t)
		_, to := h.LiveCall()
		err := h.Client().Transfer(t.Context(), "999999999", to)
		if !errors.Is(err, telephony.ErrNotFound) {
			t.Fatalf("transfer of an unknown call: %v", err)
		}
	})
}
