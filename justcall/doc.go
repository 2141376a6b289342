// Package justcall is Switchboard's JustCall client: click-to-call
// (Calls.Make), the agent directory (Users.List), the status callbacks of
// click-to-call calls (NewCallbackHandler) and JustCall's signed v2.1
// webhooks (NewWebhookHandler), plus the portable view (Client.Telephony).
// The simulator in justcall/justcalltest serves all of it for tests.
//
//	c, err := justcall.New(os.Getenv("JUSTCALL_API_KEY"), os.Getenv("JUSTCALL_API_SECRET"))
//	call, err := c.Calls.Make(ctx, justcall.MakeCallRequest{From: "+14155551234", To: "+14155559876", AgentID: 42})
//
// # Sources
//
// Calls.Make and its callbacks follow JustCall's "Click-to-Call via API"
// guide (POST /v2/calls/make). JustCall's own v2.1 reference and official
// code do not list that endpoint, so confirm it with JustCall for your
// account (the portable Capabilities().Unverified says so too), and point
// Calls.Make at the path JustCall gives you with Client.SetMakeCallPath; agent_id is
// accepted back as a number or a numeric string. Everything else follows
// developer.justcall.io: the raw "Authorization: key:secret" header, GET
// /v2.1/users, the rate-limit headers and the webhook signature.
//
// # Errors
//
// Every error is a *telephony.Error matching one sentinel: 400 is
// telephony.ErrInvalidRequest, 401 ErrUnauthorized, 404 ErrNotFound, 429
// ErrRateLimited, and a Calls.Make whose answer was lost (5xx, timeout,
// dropped connection) ErrOutcomeUnknown: the phone may ring, so check
// before calling again. JustCall's message is kept in Error.Message.
//
// # Rate limits
//
// The client starts from the Team plan (30 requests a minute, 1,800 an
// hour), corrects both from the X-Rate-Limit-Burst-* and X-Rate-Limit-*
// headers, and stops sending until the reset when either is exhausted.
// Clients with the same credentials share these limits.
//
// # Pagination
//
// Users.List is an iter.Seq2 fetching pages of up to 100 as the loop goes;
// pages are numbered from FirstPage (0).
//
// # Webhooks and callbacks
//
// JustCall signs v2.1 webhooks over the URL, the event type and a timestamp
// only, not over data: NewWebhookHandler checks the signature and the time
// window, drops redelivered request_ids and hands the request_id to you as
// CallEvent.DeliveryID; re-read the call before acting on data. Click-to-
// call callbacks are not signed at all: NewCallbackHandler checks a token
// you choose (Client.SetCallbackToken) and documents what that does and
// does not protect. Both handlers have the shape of every Switchboard
// handler (telephony.Handler: Close(ctx) to drain on shutdown, Stats,
// OnError, Observer); they answer at once and run the EventFunc in the
// background with a bound (503 beyond it), or before the answer with
// Sync. ParseWebhook and ParseCallback verify and parse a delivery for a
// pipeline of your own.
//
// # As
//
// Client.Telephony().As reaches the *justcall.Client.
package justcall
