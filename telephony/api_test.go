package telephony_test

import (
	"context"
	"iter"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/telephony"
)

// TestPublicSurface compiles every name API.md promises, with its exact
// signature: a change that would break programs written against it fails
// here first.
func TestPublicSurface(t *testing.T) {
	var (
		_ func(string, string, ...telephony.Option) (*justcall.Client, error)                      = justcall.New
		_ func(string, ...telephony.Option) (*dialpad.Client, error)                               = dialpad.New
		_ func(string, string, ...telephony.Option) (*aircall.Client, error)                       = aircall.New
		_ func(string) telephony.Option                                                            = telephony.WithBaseURL
		_ func(*http.Client) telephony.Option                                                      = telephony.WithHTTPClient
		_ func(rate.Limit, int) telephony.Option                                                   = telephony.WithRateLimit
		_ func(time.Duration) telephony.Option                                                     = telephony.WithMaxRetryWait
		_ func(*slog.Logger) telephony.Option                                                      = telephony.WithLogger
		_ func(string) telephony.Option                                                            = telephony.WithUserAgent
		_ func(*justcall.Client) *telephony.Client                                                 = (*justcall.Client).Telephony
		_ func(*dialpad.Client) *telephony.Client                                                  = (*dialpad.Client).Telephony
		_ func(*aircall.Client) *telephony.Client                                                  = (*aircall.Client).Telephony
		_ func(*telephony.Client) string                                                           = (*telephony.Client).Provider
		_ func(*telephony.Client) telephony.Capabilities                                           = (*telephony.Client).Capabilities
		_ func(*telephony.Client, context.Context, telephony.CallRequest) (*telephony.Call, error) = (*telephony.Client).Dial
		_ func(*telephony.Client, context.Context) iter.Seq2[telephony.User, error]                = (*telephony.Client).Users
		_ func(*telephony.Client, context.Context, string, telephony.Target) error                 = (*telephony.Client).Transfer
		_ func(*telephony.Client, any) bool                                                        = (*telephony.Client).As
	)
	_ = telephony.CallRequest{From: "", To: "", AgentID: "", CallbackURL: ""}
	_ = telephony.Call{ID: "", Provider: "", From: "", To: "", AgentID: "", Direction: telephony.DirectionInbound, Status: telephony.StatusRinging}
	_ = telephony.User{ID: "", Email: "", Name: "", Available: true}
	_ = telephony.Target{Type: telephony.TargetUser, ID: "", Email: ""}
	_ = telephony.InboundCall{Provider: "", CallID: "", From: "", To: "", ContactID: "", ContactType: "", StartedAt: time.Time{}}
	_ = telephony.CallEvent{Provider: "", CallID: "", Type: "", Status: telephony.StatusCompleted, Direction: telephony.DirectionOutbound, From: "", To: "", AgentID: "", Duration: 0, Time: time.Time{}}
	var _ telephony.RouteFunc = func(ctx context.Context, call telephony.InboundCall) (telephony.Target, error) {
		return telephony.Target{}, nil
	}
	var _ telephony.EventFunc = func(ctx context.Context, ev telephony.CallEvent) error { return nil }
	_ = []telephony.CallStatus{telephony.StatusRinging, telephony.StatusInProgress, telephony.StatusCompleted, telephony.StatusNoAnswer, telephony.StatusBusy, telephony.StatusFailed}
	_ = []telephony.TargetType{telephony.TargetUser, telephony.TargetDepartment, telephony.TargetCallCenter, telephony.TargetOffice, telephony.TargetTeam, telephony.TargetNumber}
	var _ *telephony.Error
	_ = []error{telephony.ErrInvalidRequest, telephony.ErrUnauthorized, telephony.ErrNotFound, telephony.ErrRateLimited, telephony.ErrUnsupported, telephony.ErrOutcomeUnknown, telephony.ErrInvalidSignature}

	// JustCall
	var jc *justcall.Client
	ctx := context.Background()
	if jc != nil {
		var c *justcall.Call
		c, _ = jc.Calls.Make(ctx, justcall.MakeCallRequest{From: "", To: "", AgentID: 42, CallbackURL: "", CallerID: ""})
		_ = justcall.Call{CallID: c.CallID, From: c.From, To: c.To, AgentID: c.AgentID, Direction: c.Direction, Status: c.Status}
		var _ iter.Seq2[justcall.User, error] = jc.Users.List(ctx, (*justcall.ListUsersOptions)(nil))
	}
	var _ func(telephony.EventFunc, justcall.CallbackOptions) (http.Handler, error) = justcall.NewCallbackHandler
	var _ func(string, telephony.EventFunc, justcall.WebhookOptions) (http.Handler, error) = justcall.NewWebhookHandler

	// Dialpad
	var dp *dialpad.Client
	if dp != nil {
		var r *dialpad.CallRouter
		r, _ = dp.CallRouters.Create(ctx, dialpad.CreateCallRouterRequest{})
		r, _ = dp.CallRouters.Get(ctx, int64(1))
		var _ iter.Seq2[dialpad.CallRouter, error] = dp.CallRouters.List(ctx, (*dialpad.ListCallRoutersOptions)(nil))
		r, _ = dp.CallRouters.Update(ctx, int64(1), dialpad.UpdateCallRouterRequest{ResetErrorCount: true})
		_ = dp.CallRouters.Delete(ctx, int64(1))
		var n *dialpad.Number
		n, _ = dp.CallRouters.AssignNumber(ctx, int64(1), dialpad.AssignNumberRequest{})
		_ = n
		_ = dialpad.CallRouter{ID: r.ID, Name: r.Name, RoutingURL: r.RoutingURL, OfficeID: r.OfficeID, DefaultTargetID: r.DefaultTargetID,
			DefaultTargetType: r.DefaultTargetType, Enabled: r.Enabled, PhoneNumbers: r.PhoneNumbers, Signature: r.Signature}
		var _ *dialpad.Signature = r.Signature
		var _ iter.Seq2[dialpad.User, error] = dp.Users.List(ctx, (*dialpad.ListUsersOptions)(nil))
		var call *dialpad.Call
		call, _ = dp.Calls.Initiate(ctx, dialpad.InitiateCallRequest{PhoneNumber: "", UserID: 1})
		_ = call
		var tr *dialpad.Transfer
		tr, _ = dp.Calls.Transfer(ctx, int64(1), dialpad.TransferRequest{})
		_ = tr
	}
	var _ func(telephony.RouteFunc, dialpad.RoutingOptions) (*dialpad.RoutingHandler, error) = dialpad.NewRoutingHandler
	_ = dialpad.RoutingOptions{Secret: "", Fallback: telephony.Target{}, Budget: time.Second, AllowUnsigned: false}
	var _ http.Handler = (*dialpad.RoutingHandler)(nil)
	var _ func(string, telephony.EventFunc, dialpad.WebhookOptions) (http.Handler, error) = dialpad.NewWebhookHandler

	// Aircall
	var ac *aircall.Client
	if ac != nil {
		var _ iter.Seq2[aircall.User, error] = ac.Users.List(ctx, (*aircall.ListOptions)(nil))
		var u *aircall.User
		u, _ = ac.Users.Get(ctx, int64(1))
		u, _ = ac.Users.FindByEmail(ctx, "")
		_ = u
		var err error = ac.Users.StartCall(ctx, int64(1), aircall.StartCallRequest{NumberID: 1, To: ""})
		_ = err
		var c *aircall.Call
		c, _ = ac.Calls.Get(ctx, int64(1))
		_ = c
		err = ac.Calls.Transfer(ctx, int64(1), aircall.TransferRequest{UserID: 1, TeamID: 0, Number: "", DispatchingStrategy: ""})
	}
	var _ func(*aircall.Client, telephony.RouteFunc, aircall.RoutingOptions) (*aircall.RoutingHandler, error) = aircall.NewRoutingHandler
	_ = aircall.RoutingOptions{Token: ""}
	var _ http.Handler = (*aircall.RoutingHandler)(nil)
	var _ func(string, telephony.EventFunc, aircall.WebhookOptions) (http.Handler, error) = aircall.NewWebhookHandler
}
