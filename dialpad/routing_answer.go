package dialpad

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/switchboard-go/switchboard/telephony"
)

// rtAnswer is the routing answer. The documented fields are target_id and
// target_type; "action":"route" is the variant quoted on Dialpad's forum,
// sent only with RoutingOptions.SendAction.
type rtAnswer struct {
	Action     string `json:"action,omitempty"`
	TargetID   int64  `json:"target_id"`
	TargetType string `json:"target_type"`
}

// rtIDAnswer builds the answer for a target named by id.
func rtIDAnswer(t telephony.Target) (rtAnswer, error) {
	switch t.Type {
	case telephony.TargetUser, telephony.TargetDepartment, telephony.TargetCallCenter, telephony.TargetOffice:
	default:
		return rtAnswer{}, fmt.Errorf("target type %q cannot receive a routed call (want user, department, callcenter or office)", t.Type)
	}
	if t.ID == "" {
		return rtAnswer{}, fmt.Errorf("%s target has no ID", t.Type)
	}
	id, err := strconv.ParseInt(t.ID, 10, 64)
	if err != nil || id <= 0 {
		return rtAnswer{}, fmt.Errorf("%s target ID %q is not a positive integer", t.Type, t.ID)
	}
	return rtAnswer{TargetID: id, TargetType: string(t.Type)}, nil
}

// encode renders an answer as the handler sends it: with "action":"route"
// only when RoutingOptions.SendAction is set.
func (h *RoutingHandler) encode(a rtAnswer) ([]byte, error) {
	if h.sendAction {
		a.Action = "route"
	}
	return json.Marshal(a)
}
