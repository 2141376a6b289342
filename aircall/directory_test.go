package aircall_test

import (
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
	time.Sleep(5 * time.Millisecond)
	sim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/users", Status: 503, Times: 3})
	if _, err := c.Users.FindByEmail(t.Context(), "nobody@example.com"); !errors.Is(err, telephony.ErrUnavailable) {
		t.Errorf("unknown email while Aircall fails: %v, want ErrUnavailable", err)
	}
	c.Users.InvalidateDirectory()
	if _, err := c.Users.FindByEmail(t.Context(), "agent3@example.com"); err != nil {
		t.Fatal(err)
	}
}
