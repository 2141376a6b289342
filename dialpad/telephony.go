package dialpad

import (
	"context"
	"iter"
	"strconv"
	"strings"

	"github.com/switchboard-go/switchboard/telephony"
)

// Telephony returns the portable view of this client. It shares the client's
// transport, rate limits (including the per-user call limit) and email
// cache.
func (c *Client) Telephony() *telephony.Client {
	return telephony.NewClient(&driver{c: c})
}

// driver adapts *Client to the portable telephony.Driver and its optional
// Dialer, UserLister and Transferrer interfaces.
type driver struct {
	c *Client
}

var (
	_ telephony.Dialer      = (*driver)(nil)
	_ telephony.UserLister  = (*driver)(nil)
	_ telephony.Transferrer = (*driver)(nil)
)

func (d *driver) Provider() string { return telephony.ProviderDialpad }

func (d *driver) Capabilities() telephony.Capabilities {
	return telephony.Capabilities{InboundRouting: true, CallEvents: true, CallRouters: true}
}

func (d *driver) As(target any) bool {
	if p, ok := target.(**Client); ok && p != nil {
		*p = d.c
		return true
	}
	return false
}

// Dial maps the portable request onto POST /api/v2/call: AgentID is the
// Dialpad user id, To the number to call, From the outbound caller id.
func (d *driver) Dial(ctx context.Context, req telephony.CallRequest) (*telephony.Call, error) {
	const op = "Dial"
	uid, err := parseID(req.AgentID)
	if err != nil {
		return nil, invalid(op, "AgentID %q must be a Dialpad user id (a positive integer)", req.AgentID)
	}
	call, err := d.c.Calls.Initiate(ctx, InitiateCallRequest{PhoneNumber: req.To, UserID: uid, OutboundCallerID: req.From})
	if err != nil {
		return nil, err
	}
	return &telephony.Call{
		ID:        strconv.FormatInt(call.CallID, 10),
		Provider:  telephony.ProviderDialpad,
		From:      req.From,
		To:        req.To,
		AgentID:   req.AgentID,
		Direction: telephony.DirectionOutbound,
		// Dialpad has only started ringing the agent's devices.
		Status: telephony.StatusInitiated,
	}, nil
}

// Users lists the company's active users (state=active, sent explicitly:
// the API reference does not say which users it lists without a state) as
// portable users: the first email, the display name, and Available when the
// user could take a call now: not on a call (Dialpad's is_available),
// online on a device, and not in do-not-disturb.
func (d *driver) Users(ctx context.Context) iter.Seq2[telephony.User, error] {
	return func(yield func(telephony.User, error) bool) {
		for u, err := range d.c.Users.List(ctx, &ListUsersOptions{State: "active"}) {
			if err != nil {
				yield(telephony.User{}, err)
				return
			}
			if !yield(portableUser(&u), nil) {
				return
			}
		}
	}
}

func portableUser(u *User) telephony.User {
	return telephony.User{ID: strconv.FormatInt(u.ID, 10), Email: u.PrimaryEmail(), Name: u.Name(), Available: u.IsAvailable && u.IsOnline && !u.DoNotDisturb}
}

// Transfer maps the portable target onto POST /api/v2/call/{id}/transfer: a
// user by id or by email (resolved through the cached FindByEmail), a
// department, call center or office by id, or an E.164 number.
func (d *driver) Transfer(ctx context.Context, callID string, to telephony.Target) error {
	const op = "Transfer"
	id, err := parseID(callID)
	if err != nil {
		return invalid(op, "call id %q must be a Dialpad call id (a positive integer)", callID)
	}
	dest, err := d.destination(ctx, op, to)
	if err != nil {
		return err
	}
	_, err = d.c.Calls.Transfer(ctx, id, TransferRequest{To: dest})
	return err
}

func (d *driver) destination(ctx context.Context, op string, to telephony.Target) (TransferDestination, error) {
	switch to.Type {
	case telephony.TargetNumber:
		return TransferDestination{Number: to.ID}, nil
	case telephony.TargetUser:
		if to.Email != "" {
			u, err := d.c.Users.FindByEmail(ctx, to.Email)
			if err != nil {
				return TransferDestination{}, err
			}
			return TransferDestination{TargetID: u.ID, TargetType: TargetTypeUser}, nil
		}
		fallthrough
	case telephony.TargetDepartment, telephony.TargetCallCenter, telephony.TargetOffice:
		tid, err := parseID(to.ID)
		if err != nil {
			return TransferDestination{}, invalid(op, "%s target id %q must be a Dialpad id (a positive integer)", to.Type, to.ID)
		}
		return TransferDestination{TargetID: tid, TargetType: string(to.Type)}, nil
	}
	return TransferDestination{}, &telephony.Error{Kind: telephony.ErrUnsupported, Provider: telephony.ProviderDialpad, Op: op,
		Message: "Dialpad cannot transfer to a " + string(to.Type) + " target; use a user, department, callcenter, office or number"}
}

func parseID(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err == nil && n <= 0 {
		err = strconv.ErrRange
	}
	return n, err
}
