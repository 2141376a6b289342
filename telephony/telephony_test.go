package telephony_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"

	"github.com/switchboard-go/switchboard/telephony"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestValidateE164(t *testing.T) {
	for _, ok := range []string{"+14155551234", "+442071838750"} {
		if err := telephony.ValidateE164(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "14155551234", "+0123", "+1 415 555 1234", "+1-415", "+1234567890123456", "+", "+1"} {
		if err := telephony.ValidateE164(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestErrorIsAndText(t *testing.T) {
	e := &telephony.Error{Kind: telephony.ErrNotFound, Provider: "aircall", Op: "GET /v1/calls/{id}",
		StatusCode: 404, Message: "Call not found", RequestID: "r1", Attempts: 1, Err: context.Canceled}
	if !errors.Is(e, telephony.ErrNotFound) || !errors.Is(e, context.Canceled) || errors.Is(e, telephony.ErrUnauthorized) {
		t.Fatal("errors.Is mismatch")
	}
	want := "aircall: GET /v1/calls/{id}: not found (HTTP 404): Call not found: context canceled [request id r1, 1 attempt]"
	if e.Error() != want {
		t.Fatalf("got  %q\nwant %q", e.Error(), want)
	}
}

func TestOptionsValidate(t *testing.T) {
	for name, opt := range map[string]telephony.Option{
		"relative URL":  telephony.WithBaseURL("/v1"),
		"ftp URL":       telephony.WithBaseURL("ftp://x"),
		"query":         telephony.WithBaseURL("https://x/?apikey=1"),
		"nil client":    telephony.WithHTTPClient(nil),
		"zero rate":     telephony.WithRateLimit(0, 1),
		"neg wait":      telephony.WithMaxRetryWait(-1),
		"attempts":      telephony.WithMaxAttempts(0),
		"backoff":       telephony.WithRetryBackoff(0, 0),
		"UA line break": telephony.WithUserAgent("a\r\nb"),
	} {
		if _, err := telephony.NewSettings(opt); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	s, err := telephony.NewSettings(telephony.WithBaseURL("http://127.0.0.1:8080/prefix/"))
	if err != nil || s.BaseURL != "http://127.0.0.1:8080/prefix" || s.MaxAttempts != 3 {
		t.Fatalf("%+v %v", s, err)
	}
}

func TestTargetValidate(t *testing.T) {
	good := []telephony.Target{telephony.UserTarget("1"), telephony.UserByEmail("a@b.c"),
		telephony.NumberTarget("+14155550100"), {Type: telephony.TargetTeam, ID: "9"}}
	for _, g := range good {
		if err := g.Validate(); err != nil {
			t.Errorf("%+v: %v", g, err)
		}
	}
	bad := []telephony.Target{{}, {Type: telephony.TargetUser}, {Type: telephony.TargetUser, ID: "1", Email: "a@b"},
		telephony.NumberTarget("555"), {Type: "fax", ID: "1"}, {Type: telephony.TargetTeam}}
	for _, b := range bad {
		if err := b.Validate(); err == nil {
			t.Errorf("%+v accepted", b)
		}
	}
}

// driver is a fake provider for the portable type's own checks: it
// records whether it was reached. Provider behaviour is tested against the
// simulators.
type driver struct{ dialed int }

func (d *driver) Provider() string { return "fake" }
func (d *driver) Capabilities() telephony.Capabilities {
	return telephony.Capabilities{CallEvents: true}
}
func (d *driver) As(target any) bool {
	p, ok := target.(**driver)
	if ok {
		*p = d
	}
	return ok
}
func (d *driver) Dial(ctx context.Context, req telephony.CallRequest) (*telephony.Call, error) {
	d.dialed++
	return &telephony.Call{ID: "c1", Provider: "fake", To: req.To}, nil
}
func (d *driver) Users(ctx context.Context) iter.Seq2[telephony.User, error] {
	return func(yield func(telephony.User, error) bool) {
		for _, u := range []telephony.User{{ID: "1", Email: "Ann@Example.com"}, {ID: "2", Email: "bob@example.com"}} {
			if !yield(u, nil) {
				return
			}
		}
	}
}

func TestPortableClientValidatesBeforeDriver(t *testing.T) {
	d := &driver{}
	c := telephony.NewClient(d)
	caps := c.Capabilities()
	if !caps.Dial || !caps.Users || caps.Transfer || !caps.CallEvents {
		t.Fatalf("capabilities %+v", caps)
	}
	if _, err := c.Dial(t.Context(), telephony.CallRequest{To: "4155550100"}); !errors.Is(err, telephony.ErrInvalidRequest) || d.dialed != 0 {
		t.Fatalf("invalid To reached the driver: %v", err)
	}
	if _, err := c.Dial(t.Context(), telephony.CallRequest{To: "+14155550100", From: "bad"}); !errors.Is(err, telephony.ErrInvalidRequest) || d.dialed != 0 {
		t.Fatalf("invalid From reached the driver: %v", err)
	}
	if _, err := c.Dial(t.Context(), telephony.CallRequest{To: "+14155550100"}); err != nil || d.dialed != 1 {
		t.Fatal(err)
	}
	err := c.Transfer(t.Context(), "c1", telephony.UserTarget("1"))
	if !errors.Is(err, telephony.ErrUnsupported) || !strings.Contains(err.Error(), "fake") {
		t.Fatalf("got %v", err)
	}
	u, err := c.FindUserByEmail(t.Context(), "ann@example.com")
	if err != nil || u.ID != "1" {
		t.Fatal(u, err)
	}
	if _, err := c.FindUserByEmail(t.Context(), "nobody@example.com"); !errors.Is(err, telephony.ErrNotFound) {
		t.Fatal(err)
	}
	var got *driver
	if !c.As(&got) || got != d || c.As(nil) {
		t.Fatal("As failed")
	}
}
