package dialpad

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

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

// appendJSON appends the answer as json.Marshal writes it (Action omitted
// when empty), without reflection. TargetType is one of the four plain
// words rtIDAnswer allows; anything else is escaped through encoding/json.
func (a rtAnswer) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if a.Action != "" {
		b = append(b, `"action":`...)
		b = rtAppendString(b, a.Action)
		b = append(b, ',')
	}
	b = append(b, `"target_id":`...)
	b = strconv.AppendInt(b, a.TargetID, 10)
	b = append(b, `,"target_type":`...)
	b = rtAppendString(b, a.TargetType)
	return append(b, '}')
}

func rtAppendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
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
func (h *RoutingHandler) encode(a rtAnswer) []byte {
	if h.sendAction {
		a.Action = "route"
	}
	return a.appendJSON(make([]byte, 0, 80))
}

// RoutingRequest is a Dialpad routing request as ParseRoutingRequest
// verified it: the JWT's claims.
type RoutingRequest struct {
	CallID         int64
	DateStarted    time.Time // zero when absent
	ExternalNumber string    // the caller, as Dialpad wrote it
	InternalNumber string    // the number called, as Dialpad wrote it
	ContactID      string
	ContactType    string
}

// ParseRoutingRequest verifies a call router's routing request (an HS256
// JWT signed with the router's secret; the algorithm pinned, exp and iat
// checked when present) and decodes it, for programs that answer routing
// requests themselves. It returns the portable call (From and To in
// E.164) and the request's claims. A body that does not verify returns an
// error matching telephony.ErrInvalidSignature; a verified one that is not
// a routing request, or whose claims do not decode, one matching
// telephony.ErrInvalidRequest (with the call id, when it could be read).
// Whatever happens, answer Dialpad 200 with a target within 5 s: every
// other answer counts towards disabling the router.
func ParseRoutingRequest(body []byte, secret string) (telephony.InboundCall, *RoutingRequest, error) {
	const op = "ParseRoutingRequest"
	v, err := rtNewVerifier(secret, MinSecretLength)
	if err != nil {
		return telephony.InboundCall{}, nil, telephony.InvalidArgument(telephony.ProviderDialpad, op, "secret: %v", err)
	}
	call, status, err := rtDecodeRequest(v, body)
	switch status {
	case 0:
	case http.StatusUnauthorized:
		return telephony.InboundCall{}, nil, &telephony.Error{Kind: telephony.ErrInvalidSignature, Provider: telephony.ProviderDialpad,
			Op: op, Message: "the body is not a JWT signed with the router's secret", Err: err}
	default:
		return call, nil, &telephony.Error{Kind: telephony.ErrInvalidRequest, Provider: telephony.ProviderDialpad,
			Op: op, Message: "not a readable routing request", Err: err}
	}
	payload, _ := rtPayload(v, body) // verified above
	var req rtRequest
	_ = json.Unmarshal(payload, &req) // decoded above
	rr := &RoutingRequest{CallID: int64(req.CallID), DateStarted: call.StartedAt, ExternalNumber: string(req.ExternalNumber),
		InternalNumber: string(req.InternalNumber), ContactID: string(req.ContactID), ContactType: string(req.ContactType)}
	return call, rr, nil
}
