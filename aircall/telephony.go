package aircall

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"

	"github.com/switchboard-go/switchboard/telephony"
)

// Telephony returns the portable view of the client. It shares the client's
// transport, rate limits and email directory.
//
// Dial: AgentID is the Aircall user id; From, when set, must be one of that
// user's numbers (User.Numbers) and is resolved to its number_id — empty
// From uses the user's first number. Aircall's "start an outbound call"
// answers with no body, so the returned Call has an empty ID and status
// telephony.StatusInitiated: the call's id arrives with its call.created
// event. Transfer accepts a user (by id, or by email through the directory),
// a team (id) or an external number.
func (c *Client) Telephony() *telephony.Client { return telephony.NewClient(driver{c}) }

// driver implements telephony.Driver, Dialer, UserLister and Transferrer.
type driver struct{ c *Client }

func (driver) Provider() string { return telephony.ProviderAircall }

func (driver) Capabilities() telephony.Capabilities {
	return telephony.Capabilities{InboundRouting: true, CallEvents: true}
}

func (d driver) As(target any) bool {
	p, ok := target.(**Client)
	if !ok || p == nil {
		return false
	}
	*p = d.c
	return true
}

func (d driver) Dial(ctx context.Context, req telephony.CallRequest) (*telephony.Call, error) {
	const o = "Dial"
	userID, err := parseID(req.AgentID)
	if err != nil {
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, o, "AgentID must be an Aircall user id: %v", err)
	}
	u, err := d.c.Users.Get(ctx, userID)
	if err != nil {
		return nil, err
	}
	if len(u.Numbers) == 0 {
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, o, "Aircall user %d has no number to call from", userID)
	}
	num := u.Numbers[0]
	if req.From != "" {
		found := false
		allowed := make([]string, 0, len(u.Numbers))
		for _, n := range u.Numbers {
			allowed = append(allowed, n.E164())
			if n.E164() == req.From {
				num, found = n, true
				break
			}
		}
		if !found {
			return nil, telephony.InvalidArgument(telephony.ProviderAircall, o,
				"From %s is not one of Aircall user %d's numbers (%s)", req.From, userID, strings.Join(allowed, ", "))
		}
	}
	if err := d.c.Users.StartCall(ctx, userID, StartCallRequest{NumberID: num.ID, To: req.To}); err != nil {
		return nil, err
	}
	return &telephony.Call{Provider: telephony.ProviderAircall, From: num.E164(), To: req.To, AgentID: req.AgentID,
		Direction: telephony.DirectionOutbound, Status: telephony.StatusInitiated}, nil
}

// Users lists the company's users. Available is whether the user can take
// a call now, from Aircall's availability endpoint (Availability.Free: not
// on a call, wrapping up, in do-not-disturb or offline), not the status the
// user chose (User.Available, User.AvailabilityStatus). Availability pages
// are read as the listing needs them, so a full listing costs about twice
// the requests of Users.List; a user missing from them is reported
// unavailable, and an error reading them ends the listing.
func (d driver) Users(ctx context.Context) iter.Seq2[telephony.User, error] {
	return func(yield func(telephony.User, error) bool) {
		next, stop := iter.Pull2(d.c.Users.Availabilities(ctx, nil))
		defer stop()
		free, exhausted := map[int64]bool{}, false
		isFree := func(id int64) (bool, error) {
			for {
				if f, ok := free[id]; ok || exhausted {
					return f, nil
				}
				a, err, ok := next()
				switch {
				case !ok:
					exhausted = true
				case err != nil:
					return false, err
				default:
					free[a.UserID] = a.Free()
				}
			}
		}
		for u, err := range d.c.Users.List(ctx, nil) {
			var available bool
			if err == nil {
				available, err = isFree(u.ID)
			}
			if err != nil {
				yield(telephony.User{}, err)
				return
			}
			if !yield(telephony.User{ID: strconv.FormatInt(u.ID, 10), Email: u.Email, Name: u.Name, Available: available}, nil) {
				return
			}
		}
	}
}

func (d driver) Transfer(ctx context.Context, callID string, to telephony.Target) error {
	id, err := parseID(callID)
	if err != nil {
		return telephony.InvalidArgument(telephony.ProviderAircall, "Transfer", "call id: %v", err)
	}
	req, err := d.c.transferRequest(ctx, to)
	if err != nil {
		return err
	}
	return d.c.Calls.Transfer(ctx, id, req)
}

// transferRequest resolves a portable target to Aircall's transfer body,
// looking a user email up in the cached directory.
func (c *Client) transferRequest(ctx context.Context, to telephony.Target) (TransferRequest, error) {
	const o = "Transfer"
	if err := to.Validate(); err != nil {
		return TransferRequest{}, telephony.InvalidArgument(telephony.ProviderAircall, o, "%v", err)
	}
	switch to.Type {
	case telephony.TargetUser:
		if to.Email != "" {
			u, err := c.Users.FindByEmail(ctx, to.Email)
			if err != nil {
				return TransferRequest{}, err
			}
			return TransferRequest{UserID: u.ID}, nil
		}
		id, err := parseID(to.ID)
		if err != nil {
			return TransferRequest{}, telephony.InvalidArgument(telephony.ProviderAircall, o, "user id: %v", err)
		}
		return TransferRequest{UserID: id}, nil
	case telephony.TargetTeam:
		id, err := parseID(to.ID)
		if err != nil {
			return TransferRequest{}, telephony.InvalidArgument(telephony.ProviderAircall, o, "team id: %v", err)
		}
		return TransferRequest{TeamID: id}, nil
	case telephony.TargetNumber:
		return TransferRequest{Number: to.ID}, nil
	}
	return TransferRequest{}, &telephony.Error{Kind: telephony.ErrUnsupported, Provider: telephony.ProviderAircall, Op: o,
		Message: "Aircall transfers to users, teams and numbers, not to a " + string(to.Type)}
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not a positive integer", s)
	}
	return id, nil
}
