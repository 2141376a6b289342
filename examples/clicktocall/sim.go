package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

// demoCustomer is the number called against a simulator when -to is not
// given.
const demoCustomer = "+14155559876"

// simOptions keep retries fast against a simulator.
var simOptions = []telephony.Option{telephony.WithRetryBackoff(10*time.Millisecond, 100*time.Millisecond)}

// simulate starts the chosen provider's simulator with one agent, and the
// provider's event handler.
func simulate(cfg config, onEvent telephony.EventFunc) (*setup, error) {
	if cfg.To == "" {
		cfg.To = demoCustomer
	}
	switch cfg.Provider {
	case telephony.ProviderJustCall:
		return simJustCall(cfg, onEvent)
	case telephony.ProviderDialpad:
		return simDialpad(cfg, onEvent)
	case telephony.ProviderAircall:
		return simAircall(cfg, onEvent)
	}
	return nil, fmt.Errorf("unknown provider %q: want justcall, dialpad or aircall", cfg.Provider)
}

// simJustCall: the simulator plays the callback sequence (ringing,
// in-progress, completed) to the callback_url by itself.
func simJustCall(cfg config, onEvent telephony.EventFunc) (*setup, error) {
	sim := justcalltest.NewServer()
	agent := sim.SeedUsers(1)[0]
	// Pace the callbacks a little, as a real call would be: the handler
	// runs the EventFunc in the background, so back-to-back callbacks could
	// be handled out of order.
	sim.SetCallbackInterval(100 * time.Millisecond)
	c, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, append(simOptions, telephony.WithBaseURL(sim.URL()))...)
	if err != nil {
		sim.Close()
		return nil, err
	}
	h, err := callbackHandler(c, onEvent)
	if err != nil {
		sim.Close()
		return nil, err
	}
	return &setup{
		client: c.Telephony(), path: justcallPath, handler: h, callback: true,
		req: telephony.CallRequest{To: cfg.To, From: or(cfg.From, agent.Numbers[0]),
			AgentID: or(cfg.Agent, strconv.FormatInt(agent.ID, 10))},
		sim: nopSim{}, close: sim.Close,
	}, nil
}

// nopSim is for a simulator that moves the call on by itself.
type nopSim struct{}

func (nopSim) placed(context.Context, *telephony.Call) error   { return nil }
func (nopSim) next(context.Context, telephony.CallEvent) error { return nil }

// simDialpad: the simulator sends call events to a webhook; the call goes
// calling -> ringing -> connected -> hangup, one state per event received.
func simDialpad(cfg config, onEvent telephony.EventFunc) (*setup, error) {
	const secret = "demo-webhook-secret-0123456789abcdef"
	sim := dialpadtest.NewServer()
	agent := sim.SeedUsers(1)[0]
	dp, err := dialpad.New(dialpadtest.APIKey, append(simOptions, telephony.WithBaseURL(sim.URL()))...)
	if err != nil {
		sim.Close()
		return nil, err
	}
	h, err := dialpad.NewWebhookHandler(onEvent, dialpad.WebhookOptions{Secret: secret})
	if err != nil {
		sim.Close()
		return nil, err
	}
	return &setup{
		client: dp.Telephony(), path: dialpadPath, handler: h,
		req:      telephony.CallRequest{To: cfg.To, From: cfg.From, AgentID: or(cfg.Agent, strconv.FormatInt(agent.ID, 10))},
		register: func(base string) { sim.AddWebhook(base+dialpadPath, secret) },
		sim:      dialpadSim{sim}, close: sim.Close,
	}, nil
}

type dialpadSim struct{ sim *dialpadtest.Server }

// dialpadNext is what the phones do after each call state.
var dialpadNext = map[string]string{"calling": "ringing", "ringing": "connected", "connected": "hangup"}

func (d dialpadSim) placed(context.Context, *telephony.Call) error { return nil }

func (d dialpadSim) next(_ context.Context, ev telephony.CallEvent) error {
	state, ok := dialpadNext[ev.Type]
	if !ok {
		return nil
	}
	id, err := strconv.ParseInt(ev.CallID, 10, 64)
	if err != nil {
		return err
	}
	return d.sim.SetCallState(id, state)
}

// simAircall: Aircall's start-a-call answers with no call id and the
// simulator posts no event by itself; the demo delivers call.created, then
// the agent answers (call.answered) and hangs up (call.hungup, call.ended).
func simAircall(cfg config, onEvent telephony.EventFunc) (*setup, error) {
	const token = "demo-aircall-webhook-token"
	sim := aircalltest.NewServer()
	agent := sim.SeedUsers(1)[0]
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, append(simOptions, telephony.WithBaseURL(sim.URL()))...)
	if err != nil {
		sim.Close()
		return nil, err
	}
	h, err := aircall.NewWebhookHandler(onEvent, aircall.WebhookOptions{Secret: token})
	if err != nil {
		sim.Close()
		return nil, err
	}
	return &setup{
		client: ac.Telephony(), path: aircallPath, handler: h,
		req:      telephony.CallRequest{To: cfg.To, From: cfg.From, AgentID: or(cfg.Agent, strconv.FormatInt(agent.ID, 10))},
		register: func(base string) { sim.SetWebhook(base+aircallPath, token) },
		sim:      &aircallSim{sim: sim}, close: sim.Close,
	}, nil
}

type aircallSim struct {
	sim       *aircalltest.Server
	id, agent int64
}

func (a *aircallSim) placed(context.Context, *telephony.Call) error {
	started := a.sim.StartedCalls()
	if len(started) == 0 {
		return fmt.Errorf("aircalltest: no call was started")
	}
	last := started[len(started)-1]
	a.id, a.agent = last.CallID, last.UserID
	_, err := a.sim.DeliverEvent("call.created", a.id)
	return err
}

func (a *aircallSim) next(_ context.Context, ev telephony.CallEvent) error {
	switch ev.Type {
	case "call.created":
		return a.sim.AnswerCall(a.id, a.agent)
	case "call.answered":
		return a.sim.HangUp(a.id)
	}
	return nil
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
