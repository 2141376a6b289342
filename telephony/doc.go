// Package telephony is Switchboard's portable vocabulary for cloud telephony:
// one Client, one set of call, user, routing and event types, and one error
// model shared by the JustCall, Dialpad and Aircall packages.
//
// A provider package (justcall, dialpad, aircall) builds its own client and
// hands out the portable view with its Telephony method:
//
//	dp, err := dialpad.New(os.Getenv("DIALPAD_API_KEY"))
//	if err != nil { ... }
//	phone := dp.Telephony() // *telephony.Client
//	call, err := phone.Dial(ctx, telephony.CallRequest{To: "+14155550100", AgentID: "42"})
//
// # Capabilities
//
// Not every provider can do everything: JustCall cannot transfer a call
// through its API, for example. Capabilities reports what a client can do, and
// a method the provider lacks returns an error matching ErrUnsupported.
//
// # Errors
//
// Every error that comes from a provider is a *Error. Match it with errors.Is
// against the sentinels (ErrInvalidRequest, ErrUnauthorized, ErrNotFound,
// ErrRateLimited, ErrUnsupported, ErrOutcomeUnknown, ErrInvalidSignature,
// ErrUnavailable, ErrBadResponse), or with errors.As to read the status,
// provider message, request id, retry-after and number of attempts. Errors that
// end because the context ended also match context.Canceled or
// context.DeadlineExceeded.
//
// ErrOutcomeUnknown deserves care: a request that can ring a phone or move a
// call is never sent twice unless the provider provably did nothing with it.
// When the answer is lost after the request was written, the caller gets
// ErrOutcomeUnknown and must check the provider's call log before trying again.
//
// # Rate limits and retries
//
// Clients built with the same credentials against the same base URL share one
// rate limiter, one retry budget and one "not before" gate, whatever package
// built them. Reads and deletes are retried on connection errors, 429 and
// 502/503/504 with capped, jittered exponential backoff; requests that can
// ring a phone are resent only after a 429 or when nothing was written.
//
// # As
//
// Client.As reaches the provider's own client:
//
//	var dp *dialpad.Client
//	if phone.As(&dp) { routers := dp.CallRouters; ... }
package telephony
