package benchmarks_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/time/rate"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/telephony"
)

// Overhead (issue 7.1): the library against a bare net/http + encoding/json
// call to the same loopback server. The server answers fixed bytes, so its
// cost is small and equal for both sides; the difference is the library's
// work (validation, rate limiter, retry wrapper, typed decoding).

const (
	benchKey    = "bench-key"
	benchSecret = "bench-secret"
	benchAuth   = benchKey + ":" + benchSecret
)

// jcWireUser is a JustCall v2.1 user object (reference 1.4), the shape
// justcalltest sends, decoded by the bare baseline with plain types.
type jcWireUser struct {
	ID                   int64           `json:"id"`
	Name                 string          `json:"name"`
	Email                string          `json:"email"`
	Role                 string          `json:"role"`
	Extension            string          `json:"extension"`
	Available            string          `json:"available"`
	OnCall               string          `json:"on_call"`
	UnavailabilityReason string          `json:"unavailability_reason"`
	Timezone             string          `json:"timezone"`
	WorkingHoursType     string          `json:"working_hours_type"`
	CreatedAt            string          `json:"created_at"`
	LastLoginTimestamp   string          `json:"last_login_timestamp"`
	Groups               json.RawMessage `json:"groups"`
	OwnedNumbers         json.RawMessage `json:"owned_numbers"`
	SharedNumbers        json.RawMessage `json:"shared_numbers"`
}

type jcUsersPage struct {
	Status       string       `json:"status"`
	Count        int          `json:"count"`
	Page         int          `json:"page"`
	PerPage      int          `json:"per_page"`
	NextPageLink *string      `json:"next_page_link"`
	Data         []jcWireUser `json:"data"`
}

func jcUser(id int64) jcWireUser {
	return jcWireUser{
		ID: id, Name: fmt.Sprintf("Agent %d", id), Email: fmt.Sprintf("agent%d@example.com", id),
		Role: "agent", Extension: fmt.Sprint(100 + id%1000), Available: "Yes", OnCall: "No",
		Timezone: "UTC", WorkingHoursType: "Always Open", CreatedAt: "2024-01-15",
		LastLoginTimestamp: "2024-03-21 17:08:22", Groups: json.RawMessage(`[]`),
		OwnedNumbers:  json.RawMessage(fmt.Sprintf(`["+1415555%04d"]`, id%10000)),
		SharedNumbers: json.RawMessage(`[]`),
	}
}

// usersPageJSON is one JustCall users page of ids first..first+n-1; next
// is the next page link, or "" for the last page (sent as null).
func usersPageJSON(first int64, n, page int, next string) []byte {
	p := jcUsersPage{Status: "success", Count: n, Page: page, PerPage: 100, Data: make([]jcWireUser, n)}
	for i := range n {
		p.Data[i] = jcUser(first + int64(i))
	}
	if next != "" {
		p.NextPageLink = &next
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return b
}

type jcMakeBody struct {
	From        string `json:"from"`
	To          string `json:"to"`
	AgentID     int64  `json:"agent_id,omitempty"`
	CallbackURL string `json:"callback_url,omitempty"`
}

type jcMakeResponse struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Data    struct {
		CallID    string `json:"call_id"`
		From      string `json:"from"`
		To        string `json:"to"`
		AgentID   int64  `json:"agent_id"`
		Direction string `json:"direction"`
		Status    string `json:"status"`
	} `json:"data"`
}

var makeAnswer = []byte(`{"status":"success","message":"Call initiated successfully","data":{"call_id":"CA1234567890","from":"+14155550100","to":"+14155550123","agent_id":7,"direction":"outbound","status":"ringing"}}`)

// benchClient is the library's JustCall client on srv, through its own
// HTTP client built like the bare side's, with no client-side rate limit.
func benchClient(b *testing.B, srv *httptest.Server) (*justcall.Client, *http.Client) {
	hc := newHTTPClient(4)
	b.Cleanup(func() { closeIdle(hc) })
	c, err := justcall.New(benchKey, benchSecret, telephony.WithBaseURL(srv.URL),
		telephony.WithHTTPClient(hc), telephony.WithRateLimit(rate.Inf, 0))
	if err != nil {
		b.Fatal(err)
	}
	return c, hc
}

// BenchmarkUsersPage lists one full page of 100 users (the answer's null
// next_page_link ends the listing after one request).
func BenchmarkUsersPage(b *testing.B) {
	srv := sideServer(b)
	b.Run("impl=library", libUsersPage(srv, 100))
	b.Run("impl=bare", bareUsersPage(srv, 100))
}

// BenchmarkMakeCall places one click-to-call call.
func BenchmarkMakeCall(b *testing.B) {
	srv := sideServer(b)
	b.Run("impl=library", libMakeCall(srv))
	b.Run("impl=bare", bareMakeCall(srv))
}
