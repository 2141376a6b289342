// Package telephonytest helps test code written against Switchboard:
// RunConformance is the suite every provider's portable client passes
// against its simulator, and Recorder/Replayer record real provider traffic
// once (credentials scrubbed) and replay it offline.
//
// The simulators themselves live beside each provider: justcall/justcalltest,
// dialpad/dialpadtest and aircall/aircalltest. They share one surface
// (SeedUsers, AddUser, SetRateLimits, Throttled, AddWebhook,
// SimulateInbound, FlushEvents, InjectFault) and one Fault type, defined
// here.
package telephonytest
