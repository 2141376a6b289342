package justcall_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

// With a pipeline of your own: verify and parse a delivery, write it to a
// durable store, and only then answer.
func ExampleParseWebhook() {
	sim := justcalltest.NewServer() // sends deliveries signed as JustCall does
	defer sim.Close()
	secret := justcalltest.APISecret // your account's API secret

	var mu sync.Mutex
	stored := map[string][]byte{} // stands for your durable store
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 256<<10))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		ev, _, err := justcall.ParseWebhook(body, r.Header, secret)
		switch {
		case errors.Is(err, telephony.ErrInvalidSignature):
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		case err != nil:
			http.Error(w, "not a call event", http.StatusBadRequest)
			return
		case ev.CallID == "": // verified, but not about a call (sms.*, ...)
			w.WriteHeader(http.StatusOK)
			return
		}
		mu.Lock()
		stored[ev.DeliveryID] = ev.Raw // written before the answer
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	code, err := sim.SendWebhook(srv.URL, "call.completed", map[string]any{"id": 123, "contact_number": "14155559876"})
	if err != nil {
		fmt.Println(err)
		return
	}
	mu.Lock()
	defer mu.Unlock()
	fmt.Println(code, len(stored), "stored")
	// Output: 200 1 stored
}

// Verify and parse a click-to-call callback yourself.
func ExampleParseCallback() {
	const token = "callback-token-0123456789" // as given to Client.SetCallbackToken
	u, _ := url.Parse("https://app.example.com/jc/callback?" + justcall.CallbackTokenParam + "=" + token)
	body := []byte(`{"call_id":"c-1","status":"completed","duration":"42"}`)
	ev, cb, err := justcall.ParseCallback(body, http.Header{"Content-Type": {"application/json"}}, u, token)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ev.CallID, ev.Status, ev.Duration, cb.Status)

	_, _, err = justcall.ParseCallback(body, nil, u, "another-token-0123456789")
	fmt.Println(errors.Is(err, telephony.ErrInvalidSignature))
	// Output:
	// c-1 completed 42s completed
	// true
}
