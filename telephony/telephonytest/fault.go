package telephonytest

import "github.com/switchboard-go/switchboard/telephony/fault"

// Fault is fault.Fault, the misbehaviour every simulator's InjectFault
// takes; see package telephony/fault for its fields.
type Fault = fault.Fault
