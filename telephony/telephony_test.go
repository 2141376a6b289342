package telephony_test

import (
	"context"
	"iter"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/telephony"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestValidateE164(t *testing.T) {
	for _, ok := range []string{"+14155551234", "+442071838750"} {
		assert.NoError(t, telephony.ValidateE164(ok), ok)
	}
	for _, bad := range []string{"", "14155551234", "+0123", "+1 415 555 1234", "+1-415", "+1234567890123456", "+", "+1"} {
		assert.Error(t, telephony.ValidateE164(bad), "%q accepted", bad)
	}
}

func TestErrorIsAndText(t *testing.T) {
	e := &telephony.Error{Kind: telephony.ErrNotFound, Provider: "aircall", Op: "GET /v1/calls/{id}",
		StatusCode: 404, Message: "Call not found", RequestID: "r1", Attempts: 1, Err: context.Canceled}
	assert.ErrorIs(t, e, telephony.ErrNotFound, "errors.Is mismatch")
	assert.ErrorIs(t, e, context.Canceled, "errors.Is mismatch")
	assert.NotErrorIs(t, e, telephony.ErrUnauthorized, "errors.Is mismatch")
	want := "aircall: GET /v1/calls/{id}: not found (HTTP 404): Call not found: context canceled [request id r1, 1 attempt]"
	assert.EqualError(t, e, want)
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
		_, err := telephony.NewSettings(opt)
		assert.Error(t, err, "%s accepted", name)
	}
	s, err := telephony.NewSettings(telephony.WithBaseURL("http://127.0.0.1:8080/prefix/"))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8080/prefix", s.BaseURL, "%+v", s)
	assert.Equal(t, 3, s.MaxAttempts, "%+v", s)
}

func TestTargetValidate(t *testing.T) {
	good := []telephony.Target{telephony.UserTarget("1"), telephony.UserByEmail("a@b.c"),
		telephony.NumberTarget("+14155550100"), {Type: telephony.TargetTeam, ID: "9"}}
	for _, g := range good {
		assert.NoError(t, g.Validate(), "%+v", g)
	}
	bad := []telephony.Target{{}, {Type: telephony.TargetUser}, {Type: telephony.TargetUser, ID: "1", Email: "a@b"},
		telephony.NumberTarget("555"), {Type: "fax", ID: "1"}, {Type: telephony.TargetTeam}}
	for _, b := range bad {
		assert.Error(t, b.Validate(), "%+v accepted", b)
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
	assert.True(t, caps.Dial, "capabilities %+v", caps)
	assert.True(t, caps.Users, "capabilities %+v", caps)
	assert.False(t, caps.Transfer, "capabilities %+v", caps)
	assert.True(t, caps.CallEvents, "capabilities %+v", caps)
	_, err := c.Dial(t.Context(), telephony.CallRequest{To: "4155550100"})
	require.ErrorIs(t, err, telephony.ErrInvalidRequest, "invalid To reached the driver: %v", err)
	require.Equal(t, 0, d.dialed, "invalid To reached the driver: %v", err)
	_, err = c.Dial(t.Context(), telephony.CallRequest{To: "+14155550100", From: "bad"})
	require.ErrorIs(t, err, telephony.ErrInvalidRequest, "invalid From reached the driver: %v", err)
	require.Equal(t, 0, d.dialed, "invalid From reached the driver: %v", err)
	_, err = c.Dial(t.Context(), telephony.CallRequest{To: "+14155550100"})
	require.NoError(t, err)
	assert.Equal(t, 1, d.dialed)
	err = c.Transfer(t.Context(), "c1", telephony.UserTarget("1"))
	assert.ErrorIs(t, err, telephony.ErrUnsupported)
	assert.ErrorContains(t, err, "fake")
	u, err := c.FindUserByEmail(t.Context(), "ann@example.com")
	require.NoError(t, err)
	assert.Equal(t, "1", u.ID, "%+v", u)
	_, err = c.FindUserByEmail(t.Context(), "nobody@example.com")
	assert.ErrorIs(t, err, telephony.ErrNotFound)
	var got *driver
	assert.True(t, c.As(&got), "As failed")
	assert.Same(t, d, got, "As failed")
	assert.False(t, c.As(nil), "As(nil) succeeded")
}
