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

	// JustCall: the services are the client's fields, the methods have
	// exactly these signatures (method expressions).
	_ = func(c *justcall.Client) (*justcall.CallsService, *justcall.UsersService) { return c.Calls, c.Users }
	var _ func(*justcall.CallsService, context.Context, justcall.MakeCallRequest) (*justcall.Call, error) = (*justcall.CallsService).Make
	_ = justcall.MakeCallRequest{From: "", To: "", AgentID: int64(42), CallbackURL: "", CallerID: ""}
	_ = justcall.Call{CallID: "", From: "", To: "", AgentID: int64(42), Direction: "", Status: ""}
	var _ func(*justcall.UsersService, context.Context, *justcall.ListUsersOptions) iter.Seq2[justcall.User, error] = (*justcall.UsersService).List
	var _ func(telephony.EventFunc, justcall.CallbackOptions) (*justcall.CallbackHandler, error) = justcall.NewCallbackHandler
	var _ func(telephony.EventFunc, justcall.WebhookOptions) (*justcall.WebhookHandler, error) = justcall.NewWebhookHandler
	_ = justcall.WebhookOptions{Secret: ""}
	_ = justcall.CallbackOptions{Secret: ""}
	var _ telephony.Handler = (*justcall.WebhookHandler)(nil)
	var _ telephony.Handler = (*justcall.CallbackHandler)(nil)

	// Dialpad
	_ = func(c *dialpad.Client) (*dialpad.CallRoutersService, *dialpad.UsersService, *dialpad.CallsService) {
		return c.CallRouters, c.Users, c.Calls
	}
	var _ func(*dialpad.CallRoutersService, context.Context, dialpad.CreateCallRouterRequest) (*dialpad.CallRouter, error) = (*dialpad.CallRoutersService).Create
	var _ func(*dialpad.CallRoutersService, context.Context, int64) (*dialpad.CallRouter, error) = (*dialpad.CallRoutersService).Get
	var _ func(*dialpad.CallRoutersService, context.Context, *dialpad.ListCallRoutersOptions) iter.Seq2[dialpad.CallRouter, error] = (*dialpad.CallRoutersService).List
	var _ func(*dialpad.CallRoutersService, context.Context, int64, dialpad.UpdateCallRouterRequest) (*dialpad.CallRouter, error) = (*dialpad.CallRoutersService).Update
	_ = dialpad.UpdateCallRouterRequest{ResetErrorCount: true, Enabled: new(bool)}
	var _ func(*dialpad.CallRoutersService, context.Context, int64) error = (*dialpad.CallRoutersService).Delete
	var _ func(*dialpad.CallRoutersService, context.Context, int64, dialpad.AssignNumberRequest) (*dialpad.Number, error) = (*dialpad.CallRoutersService).AssignNumber
	_ = dialpad.CallRouter{ID: int64(0), Name: "", RoutingURL: "", OfficeID: int64(0), DefaultTargetID: int64(0),
		DefaultTargetType: "", Enabled: true, PhoneNumbers: []string{}, Signature: (*dialpad.Signature)(nil)}
	var _ func(*dialpad.UsersService, context.Context, *dialpad.ListUsersOptions) iter.Seq2[dialpad.User, error] = (*dialpad.UsersService).List
	var _ func(*dialpad.CallsService, context.Context, dialpad.InitiateCallRequest) (*dialpad.Call, error) = (*dialpad.CallsService).Initiate
	_ = dialpad.InitiateCallRequest{PhoneNumber: "", UserID: int64(1)}
	var _ func(*dialpad.CallsService, context.Context, int64, dialpad.TransferRequest) (*dialpad.Transfer, error) = (*dialpad.CallsService).Transfer
	var _ func(telephony.RouteFunc, dialpad.RoutingOptions) (*dialpad.RoutingHandler, error) = dialpad.NewRoutingHandler
	_ = dialpad.RoutingOptions{Secret: "", Fallback: telephony.Target{}, Budget: time.Second, AllowUnsigned: false}
	var _ telephony.Handler = (*dialpad.RoutingHandler)(nil)
	var _ func(telephony.EventFunc, dialpad.WebhookOptions) (*dialpad.WebhookHandler, error) = dialpad.NewWebhookHandler
	_ = dialpad.WebhookOptions{Secret: ""}
	var _ telephony.Handler = (*dialpad.WebhookHandler)(nil)

	// Aircall
	_ = func(c *aircall.Client) (*aircall.UsersService, *aircall.CallsService) { return c.Users, c.Calls }
	var _ func(*aircall.UsersService, context.Context, *aircall.ListOptions) iter.Seq2[aircall.User, error] = (*aircall.UsersService).List
	var _ func(*aircall.UsersService, context.Context, int64) (*aircall.User, error) = (*aircall.UsersService).Get
	var _ func(*aircall.UsersService, context.Context, string) (*aircall.User, error) = (*aircall.UsersService).FindByEmail
	var _ func(*aircall.UsersService, context.Context, int64, aircall.StartCallRequest) error = (*aircall.UsersService).StartCall
	_ = aircall.StartCallRequest{NumberID: int64(1), To: ""}
	var _ func(*aircall.CallsService, context.Context, int64) (*aircall.Call, error) = (*aircall.CallsService).Get
	var _ func(*aircall.CallsService, context.Context, int64, aircall.TransferRequest) error = (*aircall.CallsService).Transfer
	_ = aircall.TransferRequest{UserID: int64(1), TeamID: int64(0), Number: "", DispatchingStrategy: ""}
	var _ func(telephony.RouteFunc, aircall.RoutingOptions) (*aircall.RoutingHandler, error) = aircall.NewRoutingHandler
	_ = aircall.RoutingOptions{Secret: "", Client: (*aircall.Client)(nil)}
	var _ telephony.Handler = (*aircall.RoutingHandler)(nil)
	var _ func(telephony.EventFunc, aircall.WebhookOptions) (*aircall.WebhookHandler, error) = aircall.NewWebhookHandler
	_ = aircall.WebhookOptions{Secret: ""}
	var _ telephony.Handler = (*aircall.WebhookHandler)(nil)
}
