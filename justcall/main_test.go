package justcall_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newSim starts a simulator with three agents, closed at the end of the test.
func newSim(t *testing.T) *justcalltest.Server {
	t.Helper()
	sim := justcalltest.NewServer()
	t.Cleanup(sim.Close)
	sim.SeedUsers(3)
	return sim
}

// newClient returns a client of sim with fast retries.
func newClient(t *testing.T, sim *justcalltest.Server, opts ...telephony.Option) *justcall.Client {
	t.Helper()
	opts = append([]telephony.Option{
		telephony.WithBaseURL(sim.URL()),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond),
	}, opts...)
	c, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Small assertion helpers: testify's assert package needs a go.sum entry
// (go.yaml.in/yaml/v3) the module does not have.

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v does not match %v", err, target)
	}
}

func eq[T any](t *testing.T, got, want T, what string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %#v\n want %#v", what, got, want)
	}
}

func asError(t *testing.T, err error) *telephony.Error {
	t.Helper()
	var te *telephony.Error
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T) is not a *telephony.Error", err, err)
	}
	return te
}
