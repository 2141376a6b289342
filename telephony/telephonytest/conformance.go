package telephonytest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		p := newHarness(t).Client().Provider()
		assert.Contains(t, []string{telephony.ProviderJustCall, telephony.ProviderDialpad, telephony.ProviderAircall}, p,
			"unknown provider name %q", p)
	})
	t.Run("Dial", func(t *testing.T) { testDial(t, newHarness) })
	t.Run("Users", func(t *testing.T) { testUsers(t, newHarness) })
	t.Run("Errors", func(t *testing.T) { testErrors(t, newHarness) })
	t.Run("Transfer", func(t *testing.T) { testTransfer(t, newHarness) })
	t.Run("As", func(t *testing.T) {
		h := newHarness(t)
		c := h.Client()
		native := h.NativeClient()
		assert.True(t, c.As(native), "As(%T) = false", native)
		assert.False(t, c.As(nil), "As(nil) = true")
		var wrong *time.Location
		assert.False(t, c.As(&wrong), "As(**time.Location) = true")
	})
}

func testDial(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("success", func(t *testing.T) {
		h := newHarness(t)
		c := h.Client()
		if !c.Capabilities().Dial {
			_, err := c.Dial(t.Context(), telephony.CallRequest{To: "+14155550100"})
			assert.ErrorIs(t, err, telephony.ErrUnsupported, "Dial without the capability: %v", err)
			return
		}
		call, err := c.Dial(t.Context(), h.DialRequest())
		require.NoError(t, err)
		require.NotNil(t, call)
		assert.Equal(t, c.Provider(), call.Provider, "call %+v", call)
		assert.Equal(t, telephony.DirectionOutbound, call.Direction, "call %+v", call)
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
		// Either refusal will do, and no specific assertion says "one of".
		assert.True(t, errors.Is(err, telephony.ErrInvalidRequest) || errors.Is(err, telephony.ErrUnsupported),
			"invalid To: want ErrInvalidRequest or ErrUnsupported, got %v", err)
		n := h.Requests("", "") - before
		assert.Equal(t, 0, n, "%d requests sent for an invalid number", n)
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
			require.NoError(t, err)
			require.NotEmpty(t, u.ID, "bad user %+v", u)
			require.False(t, seen[u.ID], "repeated user %+v", u)
			seen[u.ID] = true
		}
		assert.Len(t, seen, n, "listed %d users, want %d", len(seen), n)
		pages := h.Requests("GET", h.UsersPath())
		t.Logf("%s: %d users listed in %d page requests (page size %d)", c.Provider(), n, pages, h.UsersPageSize())
		maxPages := n/h.UsersPageSize() + 1
		assert.LessOrEqual(t, pages, maxPages, "%d page requests for %d users, want at most %d", pages, n, maxPages)
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
			require.NoError(t, err)
			break
		}
		n := h.Requests("GET", h.UsersPath())
		assert.Equal(t, 1, n, "%d page requests after breaking on the first user", n)
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
		assert.ErrorIs(t, err, telephony.ErrUnauthorized, "wrong credentials: %v", err)
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
			assert.ErrorIs(t, err, tc.kind, "status %d: got %v", tc.status, err)
			require.ErrorAs(t, err, &te, "status %d: got %v", tc.status, err)
			assert.Equal(t, tc.status, te.StatusCode, "status %d: got %v", tc.status, err)
			assert.Equal(t, h.Client().Provider(), te.Provider, "status %d: got %v", tc.status, err)
		})
	}
	t.Run("rate limited", func(t *testing.T) {
		h := newHarness(t)
		h.SeedUsers(1)
		h.FailNext(429, 10, "3600")
		start := time.Now()
		err := firstErr(h.Client(), t)
		var te *telephony.Error
		assert.ErrorIs(t, err, telephony.ErrRateLimited, "429 with Retry-After 3600: %v", err)
		if assert.ErrorAs(t, err, &te, "429 with Retry-After 3600: %v", err) {
			assert.GreaterOrEqual(t, te.RetryAfter, time.Minute, "429 with Retry-After 3600: %v", err)
		}
		n := h.Requests("", "")
		assert.Equal(t, 1, n, "%d requests in %v; want 1 and a fast failure", n, time.Since(start))
		assert.LessOrEqual(t, time.Since(start), 5*time.Second, "%d requests in %v; want 1 and a fast failure", n, time.Since(start))
	})
	t.Run("retries a transient failure", func(t *testing.T) {
		h := newHarness(t)
		h.SeedUsers(1)
		h.FailNext(503, 1, "")
		assert.NoError(t, firstErr(h.Client(), t), "one 503 on a read")
	})
}

func testTransfer(t *testing.T, newHarness func(t *testing.T) Harness) {
	h := newHarness(t)
	c := h.Client()
	if !c.Capabilities().Transfer {
		err := c.Transfer(t.Context(), "1", telephony.UserTarget("1"))
		assert.ErrorIs(t, err, telephony.ErrUnsupported, "Transfer without the capability: %v", err)
		assert.Equal(t, 0, h.Requests("", ""), "Transfer without the capability sent requests: %v", err)
		return
	}
	t.Run("success", func(t *testing.T) {
		h := newHarness(t)
		id, to := h.LiveCall()
		assert.NoError(t, h.Client().Transfer(t.Context(), id, to))
	})
	t.Run("invalid target sends nothing", func(t *testing.T) {
		h := newHarness(t)
		id, _ := h.LiveCall()
		before := h.Requests("", "")
		err := h.Client().Transfer(t.Context(), id, telephony.Target{Type: telephony.TargetUser, ID: "1", Email: "a@b.c"})
		assert.ErrorIs(t, err, telephony.ErrInvalidRequest)
		assert.Equal(t, before, h.Requests("", ""), "invalid target sent requests: %v", err)
	})
	t.Run("unknown call", func(t *testing.T) {
		h := newHarness(t)
		_, to := h.LiveCall()
		err := h.Client().Transfer(t.Context(), "999999999", to)
		assert.ErrorIs(t, err, telephony.ErrNotFound, "transfer of an unknown call: %v", err)
	})
}
