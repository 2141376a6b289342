package justcalltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/switchboard-go/switchboard/justcall"
)

// SendWebhook posts a v2.1 webhook of the given type to url, signed with
// APISecret as JustCall signs them (justcall.Signature, version v1, the
// zone-less request timestamp in UTC or in the zone SetWebhookZone
// chose), and returns the receiver's status code. data becomes the body's
// data; CallObject builds one for a simulated call.
// request_id values count up, so a test can tell deliveries apart.
func (s *Server) SendWebhook(url, eventType string, data any) (int, error) {
	s.mu.Lock()
	s.nextRequest++
	id := fmt.Sprintf("01SIMREQ%018d", s.nextRequest)
	s.mu.Unlock()
	return s.SendWebhookAs(url, eventType, id, time.Now(), data)
}

// SendWebhookAs is SendWebhook with a chosen request_id and timestamp: use
// it to replay a delivery or to send one from outside the time window.
func (s *Server) SendWebhookAs(url, eventType, requestID string, at time.Time, data any) (int, error) {
	s.mu.Lock()
	zone := s.webhookZone
	s.mu.Unlock()
	if zone == nil {
		zone = time.UTC
	}
	return s.SendWebhookRaw(url, eventType, requestID, at.In(zone).Format(justcall.TimestampLayout), data)
}

// SendWebhookRaw is SendWebhookAs with the x-justcall-request-timestamp
// written verbatim (and signed as written): use it to send a timestamp in
// another form than JustCall's, such as RFC 3339 or Unix seconds.
func (s *Server) SendWebhookRaw(url, eventType, requestID, timestamp string, data any) (int, error) {
	if s.ctx.Err() != nil {
		return 0, fmt.Errorf("justcalltest: server closed")
	}
	body, err := json.Marshal(map[string]any{
		"request_id": requestID, "webhook_url": url, "url_id": "65fc65d6d8b63be90aeee515",
		"type": eventType, "data": data,
	})
	if err != nil {
		return 0, err
	}
	h := http.Header{}
	h.Set(justcall.HeaderSignature, justcall.Signature(APISecret, url, eventType, timestamp))
	h.Set(justcall.HeaderSignatureVersion, "v1")
	h.Set(justcall.HeaderRequestTimestamp, timestamp)
	d := s.post(url, "webhook", "", eventType, body, h)
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
	if d.Err != "" {
		return 0, fmt.Errorf("justcalltest: webhook POST failed: %s", d.Err)
	}
	return d.StatusCode, nil
}

// CallObject returns the JustCall call object (developer.justcall.io "JustCall
// Call Object", the fields this package's users need) of a simulated call,
// for SendWebhook's data; GET /v2.1/calls/{id} serves the same object. It
// returns nil for an unknown id.
func (s *Server) CallObject(callID string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.findCall(callID); c != nil {
		return s.callObject(c)
	}
	return nil
}

// SetWebhookZone makes SendWebhook and SendWebhookAs write
// x-justcall-request-timestamp as the wall clock of loc, with no zone in
// it, as JustCall would if it used local time (it does not say which zone
// it uses). Nil restores UTC, the default. For example,
// time.FixedZone("UTC+2", 2*3600) or time.LoadLocation("America/New_York").
func (s *Server) SetWebhookZone(loc *time.Location) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookZone = loc
}

// SetPlainContactNumbers makes the call objects CallObject returns and
// GET /v2.1/calls/{id} serves write contact_number as JustCall does, the
// country code and number without the '+' ("14155550100"). It is off by
// default (E.164, "+14155550100"), the form tests written before it expect.
func (s *Server) SetPlainContactNumbers(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plainContact = on
}
