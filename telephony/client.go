package telephony

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
)

// Driver is what a provider package implements to back a *Client. It is
// deliberately small; each operation is an optional interface (Dialer,
// UserLister, Transferrer) detected by type assertion, so adding an operation
// to Client never breaks a provider. Users do not implement Driver; they use
// the provider packages.
type Driver interface {
	// Provider returns the provider's name ("justcall", ...).
	Provider() string
	// Capabilities reports the package-level capabilities the driver's
	// provider package offers (inbound routing, events, call routers). The
	// operation capabilities are derived from the optional interfaces.
	Capabilities() Capabilities
	// As sets target to the provider's own client when target is a pointer
	// to that type, and reports whether it did.
	As(target any) bool
}

// Dialer places click-to-call calls. The request is already validated: To is
// E.164, From is empty or E.164.
type Dialer interface {
	Dial(ctx context.Context, req CallRequest) (*Call, error)
}

// UserLister lists the account's agents.
type UserLister interface {
	Users(ctx context.Context) iter.Seq2[User, error]
}

// Transferrer moves a live call. The target is already validated.
type Transferrer interface {
	Transfer(ctx context.Context, callID string, to Target) error
}

// Client is the portable view of a provider account. Build one with a
// provider package's Telephony method; it shares the provider client's
// transport, rate limits and retry budget. A Client is safe for concurrent
// use.
type Client struct {
	d Driver
}

// NewClient wraps a driver. It is for provider packages; users get a Client
// from a provider client's Telephony method.
func NewClient(d Driver) *Client {
	if d == nil {
		panic("telephony.NewClient: nil driver")
	}
	return &Client{d: d}
}

// Provider returns the provider's name: "justcall", "dialpad" or "aircall".
func (c *Client) Provider() string { return c.d.Provider() }

// Capabilities reports what this client can do.
func (c *Client) Capabilities() Capabilities {
	caps := c.d.Capabilities()
	_, caps.Dial = c.d.(Dialer)
	_, caps.Users = c.d.(UserLister)
	_, caps.Transfer = c.d.(Transferrer)
	return caps
}

// Dial rings the agent and then connects the customer (click-to-call). To
// must be E.164, and so must From when set; invalid input returns an error
// matching ErrInvalidRequest and sends nothing.
//
// Dial is never retried once the request may have reached the provider: on a
// lost answer it returns an error matching ErrOutcomeUnknown, and the call
// may or may not ring. Cancelling ctx after the request was sent does not
// cancel the call either.
func (c *Client) Dial(ctx context.Context, req CallRequest) (*Call, error) {
	const op = "Dial"
	d, ok := c.d.(Dialer)
	if !ok {
		return nil, Unsupported(c.Provider(), op)
	}
	if err := ValidateE164(req.To); err != nil {
		return nil, invalid(c.Provider(), op, "To: %v", err)
	}
	if req.From != "" {
		if err := ValidateE164(req.From); err != nil {
			return nil, invalid(c.Provider(), op, "From: %v", err)
		}
	}
	return d.Dial(ctx, req)
}

// Users iterates over the account's agents, fetching pages as the loop
// advances. Breaking out of the loop stops fetching. An error is yielded once
// and ends the sequence.
func (c *Client) Users(ctx context.Context) iter.Seq2[User, error] {
	l, ok := c.d.(UserLister)
	if !ok {
		return func(yield func(User, error) bool) {
			yield(User{}, Unsupported(c.Provider(), "Users"))
		}
	}
	return l.Users(ctx)
}

// FindUserByEmail returns the first user whose email matches (ignoring case).
// It returns an error matching ErrNotFound when there is none. Provider
// packages with a cached directory (aircall) offer a faster lookup.
func (c *Client) FindUserByEmail(ctx context.Context, email string) (User, error) {
	for u, err := range c.Users(ctx) {
		if err != nil {
			return User{}, err
		}
		if strings.EqualFold(u.Email, email) {
			return u, nil
		}
	}
	return User{}, &Error{Kind: ErrNotFound, Provider: c.Provider(), Op: "FindUserByEmail",
		Message: fmt.Sprintf("no user with email %q", email)}
}

// Transfer moves the live call callID to the target. Providers without a
// transfer API return an error matching ErrUnsupported.
func (c *Client) Transfer(ctx context.Context, callID string, to Target) error {
	const op = "Transfer"
	t, ok := c.d.(Transferrer)
	if !ok {
		return Unsupported(c.Provider(), op)
	}
	if callID == "" {
		return invalid(c.Provider(), op, "call id is empty")
	}
	if err := to.Validate(); err != nil {
		return invalid(c.Provider(), op, "%v", err)
	}
	return t.Transfer(ctx, callID, to)
}

// As sets target to the provider's own client when target is a pointer to
// it (for example **dialpad.Client), and reports whether it did.
func (c *Client) As(target any) bool {
	if target == nil {
		return false
	}
	return c.d.As(target)
}

// Validate reports whether t names exactly one destination of a known type.
func (t Target) Validate() error {
	switch t.Type {
	case TargetUser:
		if t.ID == "" && t.Email == "" {
			return errors.New("user target needs an ID or an Email")
		}
		if t.ID != "" && t.Email != "" {
			return errors.New("user target has both ID and Email; set one")
		}
	case TargetNumber:
		if t.Email != "" {
			return errors.New("number target must not have an Email")
		}
		if err := ValidateE164(t.ID); err != nil {
			return fmt.Errorf("number target: %v", err)
		}
	case TargetDepartment, TargetCallCenter, TargetOffice, TargetTeam:
		if t.ID == "" {
			return fmt.Errorf("%s target needs an ID", t.Type)
		}
		if t.Email != "" {
			return fmt.Errorf("%s target must not have an Email", t.Type)
		}
	case "":
		return errors.New("target has no Type")
	default:
		return fmt.Errorf("unknown target type %q", t.Type)
	}
	return nil
}
