// Package dialpad is a Dialpad API v2 client: call routers, users,
// click-to-call and transfers, the call-router routing endpoint and
// call-event webhooks, plus the portable telephony.Client view.
//
//	dp, err := dialpad.New(os.Getenv("DIALPAD_API_KEY"))
//	router, err := dp.CallRouters.Create(ctx, dialpad.CreateCallRouterRequest{
//		Name: "Sales", RoutingURL: "https://example.com/dialpad/route",
//		OfficeID: 1000, DefaultTargetID: 2000, DefaultTargetType: dialpad.TargetTypeCallCenter,
//		Secret: secret, // >= 32 characters: routing requests arrive as HS256 JWTs
//	})
//
// # Authentication
//
// The API key is sent as "Authorization: Bearer <key>", never as ?apikey=
// (which would put it in access logs). The default host is
// https://dialpad.com; use telephony.WithBaseURL for the sandbox
// (https://sandbox.dialpad.com) or the simulator in package dialpadtest.
//
// # Rate limits
//
// Dialpad allows 20 requests per second per company; every client built with
// the same API key and base URL shares one limiter. Two per-endpoint limits
// are enforced before sending, because Dialpad documents no rate-limit
// headers to learn them from:
//
//   - Calls.Initiate: 5 per minute per user. A caller waits for the user's
//     next slot when it fits within its context deadline, else fails at once
//     with telephony.ErrRateLimited (Error.RetryAfter says how long).
//   - CallRouters.Update (and Reenable): 1 per 5 minutes per router; a second
//     update fails at once with telephony.ErrRateLimited.
//
// # Call routers and auto-disable
//
// Dialpad POSTs each inbound call on a router's numbers to its routing_url and
// waits at most 5 seconds for {"target_id", "target_type"}. A late or invalid
// answer sends the call to the router's default target and counts as a
// routing error; with more than 10 errors in an hour Dialpad disables the
// router, and calls stop reaching the routing_url at all. Serve the
// routing_url with NewRoutingHandler, which always answers in time.
//
// Re-enabling a disabled router with enabled=true alone does NOT reset the
// error count, so the next error disables it again. CallRoutersService.Reenable
// sends enabled=true with reset_error_count=true in one PATCH, as Dialpad
// recommends when errors were intermittent; it is subject to the 5-minute
// update limit.
//
// # IDs
//
// Dialpad's JSON carries 64-bit ids sometimes as numbers and sometimes as
// strings ("123456"); every type here decodes both and encodes numbers.
package dialpad
