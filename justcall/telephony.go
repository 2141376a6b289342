package justcall

import (
	"context"
	"iter"
	"strconv"
	"strings"

	"github.com/switchboard-go/switchboard/telephony"
)

// Telephony returns the portable view of the client. It shares the client's
// transport, rate limits and callback token. Dial maps to Calls.Make, Users
// to Users.List; JustCall has no transfer API, so Transfer returns an error
// matching telephony.ErrUnsupported.
func (c *Client) Telephony() *telephony.Client { return telephony.NewClient(driver{c}) }

// driver is the telephony.Driver of JustCall.
type driver struct{ c *Client }

func (driver) Provider() string { return telephony.ProviderJustCall }

// Capabilities: call events come from NewCallbackHandler and
// NewWebhookHandler; JustCall has no inbound routing API. Dial rests on an
// endpoint JustCall's reference does not list (MakeCallUnverified).
func (driver) Capabilities() telephony.Capabilities {
	return telephony.Capabilities{CallEvents: true, Unverified: MakeCallUnverified}
}

func (d driver) As(target any) bool {
	if p, ok := target.(**Client); ok && p != nil {
		*p = d.c
		return true
	}
	return false
}

// Dial places the call with Calls.Make. JustCall needs From; AgentID, when
// set, must be JustCall's numeric agent id.
func (d driver) Dial(ctx context.Context, req telephony.CallRequest) (*telephony.Call, error) {
	var agent int64
	if req.AgentID != "" {
		n, err := strconv.ParseInt(req.AgentID, 10, 64)
		if err != nil || n <= 0 {
			return nil, telephony.InvalidArgument(telephony.ProviderJustCall, "Dial",
				"AgentID %q is not a JustCall agent id (a positive integer)", req.AgentID)
		}
		agent = n
	}
	if req.From == "" {
		return nil, telephony.InvalidArgument(telephony.ProviderJustCall, "Dial",
			"From is required: JustCall dials from one of the account's numbers")
	}
	call, err := d.c.Calls.Make(ctx, MakeCallRequest{From: req.From, To: req.To, AgentID: agent, CallbackURL: req.CallbackURL})
	if err != nil {
		return nil, err
	}
	out := &telephony.Call{
		ID: call.CallID, Provider: telephony.ProviderJustCall,
		From: telephony.NormalizeNumber(call.From), To: telephony.NormalizeNumber(call.To),
		Direction: direction(call.Direction), Status: callStatus(call.Status),
	}
	if call.AgentID != 0 {
		out.AgentID = strconv.FormatInt(call.AgentID, 10)
	}
	return out, nil
}

// Users lists the account's agents with Users.List.
func (d driver) Users(ctx context.Context) iter.Seq2[telephony.User, error] {
	return func(yield func(telephony.User, error) bool) {
		for u, err := range d.c.Users.List(ctx, &ListUsersOptions{PerPage: MaxUsersPerPage}) {
			if err != nil {
				yield(telephony.User{}, err)
				return
			}
			if !yield(telephony.User{ID: strconv.FormatInt(u.ID, 10), Email: u.Email, Name: u.Name, Available: u.Available}, nil) {
				return
			}
		}
	}
}

func callStatus(s string) telephony.CallStatus {
	if st, ok := callbackStatuses[strings.ToLower(s)]; ok {
		return st
	}
	return telephony.CallStatus(strings.ToLower(s))
}

var (
	_ telephony.Driver     = driver{}
	_ telephony.Dialer     = driver{}
	_ telephony.UserLister = driver{}
)
