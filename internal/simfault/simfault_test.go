package simfault

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestQueueOrderAndTimes(t *testing.T) {
	var q Queue
	q.Inject(Fault{Method: "POST", Path: "/v1/calls", Status: 503, Times: 2})
	q.Inject(Fault{Status: 429})
	if f := q.Take("GET", "/v1/users"); f == nil || f.Status != 429 {
		t.Fatalf("GET matched %+v", f)
	}
	for i := 0; i < 2; i++ {
		if f := q.Take("POST", "/v1/calls/1/transfers"); f == nil || f.Status != 503 {
			t.Fatalf("POST %d matched %+v", i, f)
		}
	}
	if f := q.Take("POST", "/v1/calls"); f != nil {
		t.Fatalf("used-up fault applied again: %+v", f)
	}
}
