package aircall_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

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
		if err != nil {
			t.Fatal(err)
		}
	}
	n := sim.Count("GET", "/v1/users")
	t.Logf("50 concurrent FindByEmail on a cold directory of 120 users: user-list requests=%d", n)
	if n != 3 {
		t.Errorf("user-list requests = %d, want 3 (one reload of 3 pages)", n)
	}
}

func TestFindByEmailMissesAreRateLimited(t *testing.T) {
	sim := newSim(t)
	sim.SeedUsers(3)
	c := newClient(t, sim)
	c.Users.SetDirectoryOptions(aircall.DirectoryOptions{MinRefreshInterval: time.Hour})
	if _, err := c.Users.FindByEmail(t.Context(), "agent1@example.com"); err != nil {
		t.Fatal(err)
	}
	base := sim.Count("GET", "/v1/users")
	for range 100 {
		if _, err := c.Users.FindByEmail(t.Context(), "nobody@example.com"); !errors.Is(err, telephony.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	}
	if n := sim.Count("GET", "/v1/users") - base; n != 0 {
		t.Errorf("100 misses within the interval caused %d reloads, want 0", n)
	}

	// With a short interval, a miss reloads and finds a new agent.
	c.Users.SetDirectoryOptions(aircall.DirectoryOptions{MinRefreshInterval: time.Millisecond})
	sim.AddUser(aircalltest.User{Name: "New", Email: "new@example.com"})
	time.Sleep(5 * time.Millisecond)
	if _, err := c.Users.FindByEmail(t.Context(), "new@example.com"); err != nil {
		t.Fatalf("new agent not found after the miss interval: %v", err)
	}
	if _, err := c.Users.FindByEmail(t.Context(), " "); !errors.Is(err, telephony.ErrInvalidRequest) {
		t.Errorf("blank email: %v", err)
	}
}

// An expired directory reloads; when the reload fails, known agents are
// still found from the previous load.
func TestFindByEmailTTLAndStaleOnError(t *testing.T) {
	sim := newSim(t)
	sim.SeedUsers(3)
	c := newClient(t, sim)
	c.Users.SetDirectoryOptions(aircall.DirectoryOptions{TTL: time.Millisecond})
	if _, err := c.Users.FindByEmail(t.Context(), "agent1@example.com"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	sim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/users", Status: 503, Times: 3})
	u, err := c.Users.FindByEmail(t.Context(), "agent2@example.com")
	if err != nil || u.Email != "agent2@example.com" {
		t.Fatalf("stale entry not served while Aircall fails: %v", err)
	}
	if n := sim.Count("GET", "/v1/users"); n != 4 {
		t.Errorf("requests = %d, want 1 load + 3 failed attempts", n)
	}
	// Within MinRefreshInterval of the failure no reload starts: an unknown
	// email gets the failure's error.
	time.Sleep(5 * time.Millisecond)
	if _, err := c.Users.FindByEmail(t.Context(), "nobody@example.com"); !errors.Is(err, telephony.ErrUnavailable) {
		t.Errorf("unknown email while Aircall fails: %v, want ErrUnavailable", err)
	}
	if n := sim.Count("GET", "/v1/users"); n != 4 {
		t.Errorf("requests = %d, want no reload right after a failed one", n)
	}
	c.Users.InvalidateDirectory()
	if _, err := c.Users.FindByEmail(t.Context(), "agent3@example.com"); err != nil {
		t.Fatal(err)
	}
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
				if _, err := c.Users.FindByEmail(t.Context(), "agent1@example.com"); err != nil {
					t.Fatal(err)
				}
				time.Sleep(5 * time.Millisecond) // the directory is now stale
			}
			sim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/users", Status: 503, Times: 10000})
			base := sim.Count("GET", "/v1/users")
			if _, err := c.Users.FindByEmail(t.Context(), "nobody@example.com"); !errors.Is(err, telephony.ErrUnavailable) {
				t.Fatalf("first lookup during the outage: %v, want ErrUnavailable", err)
			}
			one := sim.Count("GET", "/v1/users") - base // the attempts of one listing
			for range 100 {
				if _, err := c.Users.FindByEmail(t.Context(), "nobody@example.com"); !errors.Is(err, telephony.ErrUnavailable) {
					t.Fatalf("lookup during the outage: %v, want ErrUnavailable", err)
				}
			}
			u, err := c.Users.FindByEmail(t.Context(), "agent1@example.com")
			if warm && (err != nil || u.Email != "agent1@example.com") {
				t.Errorf("known agent during the outage: %v", err)
			}
			n := sim.Count("GET", "/v1/users") - base
			t.Logf("R-directory outage (warm=%v): 102 lookups, user-list requests=%d (one listing = %d)", warm, n, one)
			if one == 0 || n != one {
				t.Errorf("requests during the outage = %d, want those of one listing (%d)", n, one)
			}
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
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) || te.Provider != telephony.ProviderAircall {
		t.Errorf("err = %#v, want a *telephony.Error matching context.DeadlineExceeded", err)
	}
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	c.Users.InvalidateDirectory()
	sim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/users", Delay: 200 * time.Millisecond})
	if _, err := c.Users.FindByEmail(ctx, "agent1@example.com"); !errors.As(err, &te) || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %#v, want a *telephony.Error matching context.Canceled", err)
	}
	// Wait for the detached reload, so that it does not outlive the test.
	if _, err := c.Users.FindByEmail(t.Context(), "agent1@example.com"); err != nil {
		t.Fatal(err)
	}
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
	for range 5 {
		if _, err := c.Users.FindByEmail(t.Context(), "nobody@example.com"); !errors.Is(err, telephony.ErrNotFound) {
			t.Fatalf("unknown email: %v", err)
		}
	}
	n := sim.Count("GET", "/v1/users")
	t.Logf("5 misses after a 240ms reload (interval 100ms): user-list requests=%d", n)
	if n != 3 {
		t.Fatalf("user-list requests = %d, want one listing (3 pages)", n)
	}
}
