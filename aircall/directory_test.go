package aircall_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

// Concurrent lookups on a cold directory share one reload.
func TestFindByEmailSharesOneReload(t *testing.T) {
	sim := newSim(t)
	sim.SeedUsers(120)
	c := newClient(t, sim)
	sim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/users", Delay: 50 * time.Millisecond}) // keep the reload in flight
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := c.Users.FindByEmail(t.Context(), fmt.Sprintf("Agent%d@EXAMPLE.com", i+1))
			if err == nil && u.Email != fmt.Sprintf("agent%d@example.com", i+1) {
				err = fmt.Errorf("lookup %d found %s", i+1, u.Email)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	n := sim.Count("GET", "/v1/users")
	t.Logf("50 concurrent FindByEmail on a cold directory of 120 users: user-list requests=%d", n)
	assert.Equal(t, 3, n, "user-list requests (one reload of 3 pages)")
}

func TestFindByEmailMissesAreRateLimited(t *testing.T) {
	sim := newSim(t)
	sim.SeedUsers(3)
	c := newClient(t, sim)
	c.Users.SetDirectoryOptions(aircall.DirectoryOptions{MinRefreshInterval: time.Hour})
	_, err := c.Users.FindByEmail(t.Context(), "agent1@example.com")
	require.NoError(t, err)
	base := sim.Count("GET", "/v1/users")
	for i := range 100 {
		_, err := c.Users.FindByEmail(t.Context(), "nobody@example.com")
		require.ErrorIs(t, err, telephony.ErrNotFound, "miss %d", i+1)
	}
	assert.Zero(t, sim.Count("GET", "/v1/users")-base, "reloads caused by 100 misses within the interval")

	// With a short interval, a miss reloads and finds a new agent.
	c.Users.SetDirectoryOptions(aircall.DirectoryOptions{MinRefreshInterval: time.Millisecond})
	sim.AddUser(aircalltest.User{Name: "New", Email: "new@example.com"})
	time.Sleep(5 * time.Millisecond)
	_, err = c.Users.FindByEmail(t.Context(), "new@example.com")
	assert.NoError(t, err, "new agent not found after the miss interval")
	_, err = c.Users.FindByEmail(t.Context(), " ")
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "blank email")
}

// An expired directory reloads; when the reload fails, known agents are
// still found from the previous load.
func TestFindByEmailTTLAndStaleOnError(t *testing.T) {
	sim := newSim(t)
	sim.SeedUsers(3)
	c := newClient(t, sim)
	c.Users.SetDirectoryOptions(aircall.DirectoryOptions{TTL: time.Millisecond})
	_, err := c.Users.FindByEmail(t.Context(), "agent1@example.com")
	require.NoError(t, err)
	time.Sleep(5 * time.Millisecond)
	sim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/users", Status: 503, Times: 3})
	u, err := c.Users.FindByEmail(t.Context(), "agent2@example.com")
	require.NoError(t, err, "stale entry not served while Aircall fails")
	require.Equal(t, "agent2@example.com", u.Email, "stale entry served while Aircall fails")
	assert.Equal(t, 4, sim.Count("GET", "/v1/users"), "requests, want 1 load + 3 failed attempts")
	// Within MinRefreshInterval of the failure no reload starts: an unknown
	// email gets the failure's error.
	time.Sleep(5 * time.Millisecond)
	_, err = c.Users.FindByEmail(t.Context(), "nobody@example.com")
	assert.ErrorIs(t, err, telephony.ErrUnavailable, "unknown email while Aircall fails")
	assert.Equal(t, 4, sim.Count("GET", "/v1/users"), "requests, want no reload right after a failed one")
	c.Users.InvalidateDirectory()
	_, err = c.Users.FindByEmail(t.Context(), "agent3@example.com")
	assert.NoError(t, err)
}

// During an outage, lookups of an unknown email start at most one listing
// per MinRefreshInterval; known agents are still served from the last good
// directory meanwhile.
func TestFindByEmailBacksOffAfterFailedReload(t *testing.T) {
	for _, warm := range []bool{true, false} {
		t.Run(fmt.Sprint("warm=", warm), func(t *testing.T) {
			sim := newSim(t)
			sim.SeedUsers(3)
			c := newClient(t, sim)
			c.Users.SetDirectoryOptions(aircall.DirectoryOptions{TTL: time.Millisecond, MinRefreshInterval: time.Hour})
			if warm {
				_, err := c.Users.FindByEmail(t.Context(), "agent1@example.com")
				require.NoError(t, err)
				time.Sleep(5 * time.Millisecond) // the directory is now stale
			}
			sim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/users", Status: 503, Times: 10000})
			base := sim.Count("GET", "/v1/users")
			_, err := c.Users.FindByEmail(t.Context(), "nobody@example.com")
			require.ErrorIs(t, err, telephony.ErrUnavailable, "first lookup during the outage")
			one := sim.Count("GET", "/v1/users") - base // the attempts of one listing
			for i := range 100 {
				_, err := c.Users.FindByEmail(t.Context(), "nobody@example.com")
				require.ErrorIs(t, err, telephony.ErrUnavailable, "lookup %d during the outage", i+2)
			}
			u, err := c.Users.FindByEmail(t.Context(), "agent1@example.com")
			if warm && assert.NoError(t, err, "known agent during the outage") {
				assert.Equal(t, "agent1@example.com", u.Email, "known agent during the outage")
			}
			n := sim.Count("GET", "/v1/users") - base
			t.Logf("R-directory outage (warm=%v): 102 lookups, user-list requests=%d (one listing = %d)", warm, n, one)
			assert.NotZero(t, one, "requests of one listing during the outage")
			assert.Equal(t, one, n, "requests during the outage, want those of one listing (%d)", one)
		})
	}
}

// A lookup whose context ends while the directory loads gets a
// *telephony.Error that still matches the context's error.
func TestFindByEmailContextErrorIsTyped(t *testing.T) {
	sim := newSim(t)
	sim.SeedUsers(1)
	c := newClient(t, sim)
	sim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/users", Delay: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	_, err := c.Users.FindByEmail(ctx, "agent1@example.com")
	var te *telephony.Error
	if assert.ErrorAs(t, err, &te, "want a *telephony.Error matching context.DeadlineExceeded") {
		assert.Equal(t, telephony.ProviderAircall, te.Provider, "err = %#v", err)
	}
	assert.ErrorIs(t, err, context.DeadlineExceeded, "want a *telephony.Error matching context.DeadlineExceeded")
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	c.Users.InvalidateDirectory()
	sim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/users", Delay: 200 * time.Millisecond})
	_, err = c.Users.FindByEmail(ctx, "agent1@example.com")
	assert.ErrorAs(t, err, &te, "want a *telephony.Error matching context.Canceled")
	assert.ErrorIs(t, err, context.Canceled, "want a *telephony.Error matching context.Canceled")
	// Wait for the detached reload, so that it does not outlive the test.
	_, err = c.Users.FindByEmail(t.Context(), "agent1@example.com")
	require.NoError(t, err)
}

// The minimum interval between reloads runs from the end of a reload: a
// listing slower than the interval must not be followed by another one for
// every unknown email.
func TestFindByEmailSlowReloadIsNotRepeated(t *testing.T) {
	sim := newSim(t)
	sim.SeedUsers(120) // 3 pages
	c := newClient(t, sim)
	c.Users.SetDirectoryOptions(aircall.DirectoryOptions{MinRefreshInterval: 100 * time.Millisecond})
	sim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/users", Delay: 80 * time.Millisecond, Times: 3})
	for i := range 5 {
		_, err := c.Users.FindByEmail(t.Context(), "nobody@example.com")
		require.ErrorIs(t, err, telephony.ErrNotFound, "unknown email, lookup %d", i+1)
	}
	n := sim.Count("GET", "/v1/users")
	t.Logf("5 misses after a 240ms reload (interval 100ms): user-list requests=%d", n)
	assert.Equal(t, 3, n, "user-list requests, want one listing (3 pages)")
}
