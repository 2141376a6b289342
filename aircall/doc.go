// Package aircall is a client for the Aircall Public API (v1) and the
// server side of Aircall smart routing: receive the call.created webhook,
// decide where the call goes, transfer it.
//
//	c, err := aircall.New(apiID, apiToken)
//	u, err := c.Users.FindByEmail(ctx, "bob@example.com") // cached directory
//	err = c.Calls.Transfer(ctx, callID, aircall.TransferRequest{UserID: u.ID})
//
// Credentials are sent with HTTP Basic auth in the Authorization header,
// never in a URL (Aircall's own tutorial puts them in the URL; this package
// does not), and never appear in logs or errors.
//
// # Smart routing
//
// NewRoutingHandler is Aircall's "direct your customers' calls to the right
// agent" tutorial hardened: the webhook token is checked in constant time,
// the webhook is answered at once and the call routed in the background, an
// agent's email is resolved through a cached directory instead of listing
// every user on every call, the call is re-read before it is transferred
// (webhook bodies are not signed), redeliveries transfer once, and every
// failure reaches RoutingOptions.OnError and the logger. With
// RoutingOptions.Events the same webhook URL also records every call event.
//
// # Availability
//
// A user's availability_status (User.AvailabilityStatus, and the Available
// flag beside it) is what the user chose; whether they can take a call now
// is Aircall's availability (Users.Availabilities, Users.GetAvailability:
// in_call, after_call_work, do_not_disturb, offline, available). The
// portable Users reports the latter in telephony.User.Available.
//
// # Pagination
//
// Users.List, Users.Availabilities and Teams.List are iter.Seq2 values that
// follow meta.next_page_link, 50 records a page by default. Aircall caps every listing at MaxListRecords (10,000)
// records whatever the paging; split larger listings with ListOptions.From
// and To. A listing never goes past the cap, whatever a server answers: a
// page offered beyond it ends the listing with an error. The directory
// behind Users.FindByEmail splits its listing by creation time itself, so
// it reaches every agent of a larger company.
//
// # Rate limits
//
// Aircall limits each company (documented as 60 requests a minute; some
// sources say 120). The client starts at 60 a minute, shared by every
// client with the same credentials, and follows X-AircallApi-Limit,
// -Remaining and -Reset: when Remaining reaches 0 nothing is sent until the
// reset, and a 429 is waited out until the reset (up to
// telephony.WithMaxRetryWait; a longer wait fails at once with
// telephony.ErrRateLimited).
//
// # Errors
//
// Every error is a *telephony.Error carrying Aircall's {error, troubleshoot}
// message; match it with errors.Is against the telephony sentinels.
// Requests that move or start a call (Calls.Transfer, Users.StartCall) are
// never resent once they may have reached Aircall: after a 5xx, a timeout or
// a dropped connection they fail with telephony.ErrOutcomeUnknown. Aircall
// documents no idempotency key, so none is sent.
//
// # Webhooks
//
// Aircall signs nothing: a webhook's only credential is the token in the
// body. ParseEvent and ParseWebhook check it; NewRoutingHandler and
// NewWebhookHandler check it first, cap the body at 256 KiB, deduplicate
// redeliveries and answer within milliseconds: 200 for every genuine
// delivery, since Aircall does not document retries and deactivates
// webhooks that keep failing (work that does not fit is dropped and
// counted in Stats().Dropped, never refused); 401 for a wrong token.
//
// # As
//
// The portable client from Telephony reaches this package's *Client with
// As(&c) where c is a *aircall.Client.
//
// # Testing
//
// Package aircalltest is an in-memory Aircall simulator for tests and
// examples.
package aircall
