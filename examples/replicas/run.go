package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/internal/redistest"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
)

// The load. Its click-to-calls ask for three times what the accounts
// allow while it lasts: JustCall's 30 per minute (Team plan, one fixed
// window from the first request) and Dialpad's 5 call initiations per
// minute per agent.
const (
	loadDuration  = 4 * time.Second
	justcallQuota = 30                            // per minute, for the account
	dialpadQuota  = dialpad.CallsPerUserPerMinute // per minute, per agent
	justcallDials = 3 * justcallQuota
	dialpadDials  = 3 * dialpadQuota * 3 // three agents
	dialpadCalls  = 10                   // inbound Dialpad calls (call router)
	aircallCalls  = 20                   // inbound Aircall calls (call.created to every replica)
)

// drainTimeout bounds the wait, after the load, for every acknowledged
// event to be processed: the killed replica's are claimed once they have
// been idle for ClaimIdle, counted from its last heartbeat (every third of
// ClaimIdle).
func drainTimeout(claimIdle time.Duration) time.Duration {
	if claimIdle <= 0 {
		return libraryClaimIdle + 15*time.Second
	}
	return 3*claimIdle + 2*time.Second
}

// result is what a run observed: the figures of the last line.
type result struct {
	Calls        int
	MaxTransfers int
	Throttled    int
	Lost         int
	Twice        int
}

func (r result) ok() bool { return r.MaxTransfers <= 1 && r.Lost == 0 }

func (r result) line() string {
	return fmt.Sprintf("replicas: %d processes, %d calls; transfers per call max=%d; provider 429s=%d; events lost=%d; events processed twice=%d",
		numReplicas, r.Calls, r.MaxTransfers, r.Throttled, r.Lost, r.Twice)
}

// run is the orchestrator: simulators, Redis, replicas, load, kill,
// figures. It prints what each phase did to w.
func run(ctx context.Context, cfg config, w io.Writer) (result, error) {
	env, where, cleanup, err := storeEnv(cfg.Store)
	if err != nil {
		return result{}, err
	}
	defer cleanup()

	sims := startSimulators()
	defer sims.close()
	led := newLedger()
	defer led.Close()
	env = append(env, envIdle+"="+cfg.ClaimIdle.String(), envJustCall+"="+sims.jcMeter.URL(), envDialpad+"="+sims.dpMeter.URL(),
		envAircall+"="+sims.acMeter.URL(), envLedger+"="+led.URL())

	// The replicas, started together.
	procs := make([]*process, numReplicas)
	errs := make([]error, numReplicas)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			procs[i], errs[i] = startProcess(ctx, i, env, cfg.Verbose)
		}()
	}
	wg.Wait()
	defer func() {
		for _, p := range procs {
			if p != nil && !p.exited() {
				p.kill()
			}
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return result{}, err
	}
	urls := make([]string, numReplicas)
	pids := make([]int, numReplicas)
	for i, p := range procs {
		urls[i], pids[i] = p.url, p.pid()
	}
	lb := newBalancer(urls)
	defer lb.Close()
	sims.wire(lb.URL())

	fmt.Fprintf(w, "state: %s\n", where)
	fmt.Fprintf(w, "started %d replicas (pids %d, %d, %d) behind a load balancer, against the JustCall, Dialpad and Aircall simulators\n",
		numReplicas, pids[0], pids[1], pids[2])

	ld := &load{sims: sims, lb: lb, led: led, procs: procs, created: map[int64]bool{}}
	if err := ld.run(ctx); err != nil {
		return result{}, err
	}
	ld.report(w)

	// Drain: every event a replica acknowledged should be processed by
	// someone, the killed replica's by the survivors once they claim it.
	accepted := sims.acceptedEvents(ld.created)
	drainStart := time.Now()
	var processed map[string]int
	var byReplica [numReplicas]int
	for {
		processed, byReplica = led.snapshot()
		if missing(accepted, processed) == 0 || time.Since(drainStart) > drainTimeout(cfg.ClaimIdle) || ctx.Err() != nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	res := result{Calls: justcallDials + dialpadDials + dialpadCalls + aircallCalls}
	res.Lost = missing(accepted, processed)
	for _, n := range processed {
		if n > 1 {
			res.Twice++
		}
	}
	fmt.Fprintf(w, "events: %d acknowledged by a replica, processed by replica 1: %d, 2: %d, 3: %d; %v after the kill, %d never processed and %d processed more than once\n",
		len(accepted), byReplica[0], byReplica[1], byReplica[2], time.Since(ld.killedAt).Round(100*time.Millisecond), res.Lost, res.Twice)

	// Stop the survivors (they drain), then read the providers' side.
	var stopErrs []error
	for _, p := range procs {
		if !p.exited() {
			stopErrs = append(stopErrs, p.stop())
		}
	}
	if err := errors.Join(stopErrs...); err != nil {
		fmt.Fprintf(w, "warning: %v\n", err)
	}

	perCall := map[int64]int{}
	for _, t := range sims.ac.Transfers() {
		perCall[t.CallID]++
	}
	for _, n := range perCall {
		res.MaxTransfers = max(res.MaxTransfers, n)
	}
	var requests, throttled int
	var per [3]int
	for i, m := range []*meter{sims.jcMeter, sims.dpMeter, sims.acMeter} {
		r, t := m.counts()
		requests, throttled, per[i] = requests+r, throttled+t, t
	}
	placed := sims.placed()
	res.Throttled = throttled
	span := ld.dialEnd.Sub(ld.dialStart)
	allowed := justcallQuota*int(math.Ceil(span.Minutes())) + 3*(dialpadQuota+int(span/(time.Minute/dialpadQuota)))
	share := 0.0
	if requests > 0 {
		share = 100 * float64(throttled) / float64(requests)
	}
	fmt.Fprintf(w, "providers: %d requests, %d answered 429 (%.1f%%: JustCall %d, Dialpad %d, Aircall %d); click-to-call: %d placed of the %d the quotas allowed in %v (goodput %.2f)\n",
		requests, throttled, share, per[0], per[1], per[2], placed, allowed, span.Round(100*time.Millisecond), float64(placed)/float64(allowed))
	return res, nil
}

// storeEnv returns the replicas' environment for the store, a description
// of it, and what to do at the end.
func storeEnv(kind string) (env []string, where string, cleanup func(), err error) {
	switch kind {
	case "memory":
		return []string{envStore + "=memory"}, "memory: each replica keeps its own (no Redis)", func() {}, nil
	case "redis":
	default:
		return nil, "", nil, fmt.Errorf("-store %q: want redis or memory", kind)
	}
	var stops []func()
	raw := os.Getenv(envRedis)
	origin := "SWITCHBOARD_REDIS_URL"
	if raw == "" {
		srv, err := redistest.Start()
		if err != nil {
			return nil, "", nil, fmt.Errorf("no Redis: %v; set %s, or run with -store memory to see what breaks without it", err, envRedis)
		}
		stops = append(stops, srv.Close)
		raw, origin = "redis://"+srv.Addr+"/0", "a redis-server started for this run"
	}
	// A prefix of its own, so that runs sharing one Redis never see each
	// other's keys; removed at the end.
	prefix := fmt.Sprintf("switchboard-replicas:%d-%d:", os.Getpid(), time.Now().UnixNano())
	host := "?"
	if u, err := url.Parse(raw); err == nil {
		host = u.Host // never the password
	}
	cleanup = func() {
		removeKeys(raw, prefix)
		for _, s := range stops {
			s()
		}
	}
	return []string{envStore + "=redis", envRedis + "=" + raw, envPrefix + "=" + prefix},
		fmt.Sprintf("one Redis shared by every replica (%s at %s, keys under %q)", origin, host, prefix), cleanup, nil
}

// removeKeys deletes this run's keys (streams do not expire by themselves).
func removeKeys(raw, prefix string) {
	o, err := redis.ParseURL(raw)
	if err != nil {
		return
	}
	c := redis.NewClient(o)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	it := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var batch []string
	for it.Next(ctx) {
		if batch = append(batch, it.Val()); len(batch) == 500 {
			c.Unlink(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		c.Unlink(ctx, batch...)
	}
}

// simulators are the three providers, each behind a meter.
type simulators struct {
	jc                        *justcalltest.Server
	dp                        *dialpadtest.Server
	ac                        *aircalltest.Server
	jcMeter, dpMeter, acMeter *meter
	jcAgent                   justcalltest.User
	dpAgents                  []dialpadtest.User
	acAgents                  []aircalltest.User
	router                    dialpadtest.Router
}

func startSimulators() *simulators {
	s := &simulators{jc: justcalltest.NewServer(), dp: dialpadtest.NewServer(), ac: aircalltest.NewServer()}
	s.jc.SetRateLimit(justcallQuota, 1800)
	s.jcAgent = s.jc.SeedUsers(1)[0]
	s.dp.SetRateLimit(dialpadtest.RateLimit{CompanyPerSecond: dialpad.CompanyRateLimit,
		CallsPerUserPerMinute: dialpadQuota, RouterUpdatesPer5Minutes: 1})
	s.ac.SetRateLimit(aircall.DefaultRateLimit, time.Minute)
	for i, a := range agents {
		s.dpAgents = append(s.dpAgents, s.dp.AddUser(dialpadtest.User{FirstName: a.First, LastName: a.Last, Email: a.Email,
			IsAvailable: true, IsOnline: true}))
		s.acAgents = append(s.acAgents, s.ac.AddUser(aircalltest.User{Name: a.First + " " + a.Last, Email: a.Email, Available: true,
			Numbers: []aircalltest.Number{{Digits: fmt.Sprintf("+1 415 555 01%02d", i)}}}))
	}
	s.jcMeter, s.dpMeter, s.acMeter = newMeter(s.jc.URL()), newMeter(s.dp.URL()), newMeter(s.ac.URL())
	return s
}

// wire points the providers at the load balancer: the Dialpad call router
// and event webhook, and the Aircall event webhook (call.created is
// delivered by the load itself, to every replica).
func (s *simulators) wire(lb string) {
	s.router = s.dp.AddRouter(dialpadtest.Router{Name: "Replicas", RoutingURL: lb + "/dialpad/route", OfficeID: dialpadtest.OfficeID,
		DefaultTargetID: fallbackCenter, DefaultTargetType: "callcenter", Enabled: true,
		PhoneNumbers: []string{dialpadNumber}, Secret: routerSecret})
	s.dp.AddWebhook(lb+"/dialpad/events", dialpadSecret)
	s.ac.SetWebhook(lb+"/aircall/events", aircallToken)
}

// placed returns the click-to-calls the providers placed (whether or not
// the replica that asked heard the answer in time).
func (s *simulators) placed() int {
	n := len(s.jc.Calls())
	for _, c := range s.dp.Calls() {
		if c.Direction == "outbound" {
			n++
		}
	}
	return n
}

func (s *simulators) close() {
	for _, m := range []*meter{s.jcMeter, s.dpMeter, s.acMeter} {
		if m != nil {
			m.Close()
		}
	}
	s.jc.Close()
	s.dp.Close()
	s.ac.Close()
}

// acceptedEvents returns the keys of the events some replica answered 200:
// the Dialpad webhook's deliveries, the Aircall webhook's (call.answered,
// call.hungup, call.ended) and the call.created the load delivered itself.
func (s *simulators) acceptedEvents(created map[int64]bool) map[string]bool {
	s.dp.FlushEvents()
	acc := map[string]bool{}
	for id, ok := range created {
		if ok {
			acc[eventKey("aircall", strconv.FormatInt(id, 10), "call.created")] = true
		}
	}
	for _, d := range s.ac.Deliveries() {
		if d.Status == http.StatusOK {
			acc[eventKey("aircall", strconv.FormatInt(d.CallID, 10), d.Event)] = true
		}
	}
	for _, d := range s.dp.Deliveries() {
		if d.Status == http.StatusOK {
			acc[eventKey("dialpad", strconv.FormatInt(d.CallID, 10), d.State)] = true
		}
	}
	return acc
}

func missing(accepted map[string]bool, processed map[string]int) int {
	n := 0
	for k := range accepted {
		if processed[k] == 0 {
			n++
		}
	}
	return n
}

// load drives the calls and kills the victim on the way.
type load struct {
	sims  *simulators
	lb    *balancer
	led   *ledger
	procs []*process
	hc    http.Client

	mu                                 sync.Mutex
	dialStart, dialEnd                 time.Time
	dialed, refused, throttled, failed int
	failedOnVictim                     int    // in flight on the victim when it was killed
	firstFailure                       string // of the others
	dpRouted, dpFallback               int
	created                            map[int64]bool // Aircall call -> call.created acknowledged by an event webhook
	createdDelivered, createdRefused   int            // call.created POSTs answered, and refused (dead replica)
	killedAt                           time.Time
	held                               int
}

func (l *load) run(ctx context.Context) error {
	l.hc = http.Client{Timeout: 10 * time.Second}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, loadDuration+30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	at := func(d time.Duration, f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTimer(time.Until(start.Add(d)))
			defer t.Stop()
			select {
			case <-t.C:
				f()
			case <-ctx.Done():
			}
		}()
	}
	dials := justcallDials + dialpadDials
	for i := range dials {
		at(time.Duration(i)*loadDuration/time.Duration(dials), func() { l.dial(ctx, i) })
	}
	for i := range dialpadCalls {
		at(time.Duration(i)*loadDuration/dialpadCalls, func() { l.dialpadCall(ctx, i) })
	}
	for i := range aircallCalls {
		at(time.Duration(i)*loadDuration/aircallCalls, func() { l.aircallCall(ctx, i) })
	}
	// Half-way through, once the stalled replica sits on some events,
	// kill it.
	at(loadDuration/2, func() {
		for l.led.held() == 0 && time.Since(start) < loadDuration+time.Second {
			time.Sleep(10 * time.Millisecond)
		}
		l.mu.Lock()
		l.held, l.killedAt = l.led.held(), time.Now()
		l.mu.Unlock()
		l.procs[victim].kill()
		l.lb.markDown(victim) // as its failed health check would
	})
	wg.Wait()
	return ctx.Err()
}

// dial is click-to-call i through the load balancer: two of every three
// are JustCall calls, one a Dialpad call for one of the three agents.
func (l *load) dial(ctx context.Context, i int) {
	req := dialRequest{Provider: "justcall", From: l.sims.jcAgent.Numbers[0], To: customerNumber(i),
		Agent: strconv.FormatInt(l.sims.jcAgent.ID, 10)}
	if i%3 == 2 {
		req = dialRequest{Provider: "dialpad", To: customerNumber(i), Agent: strconv.FormatInt(l.sims.dpAgents[(i/3)%3].ID, 10)}
	}
	body, _ := json.Marshal(req)
	l.mu.Lock()
	if l.dialStart.IsZero() {
		l.dialStart = time.Now()
	}
	l.mu.Unlock()
	status, answer, replica := l.post(ctx, l.lb.URL()+"/dial", body)
	var refusal dialRefusal
	_ = json.Unmarshal(answer, &refusal)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dialEnd = time.Now()
	switch {
	case status == http.StatusOK:
		l.dialed++
	case status == http.StatusTooManyRequests && refusal.ReachedProvider:
		l.throttled++
	case status == http.StatusTooManyRequests:
		l.refused++
	case replica == victim && status == http.StatusBadGateway:
		l.failed++
		l.failedOnVictim++
	default:
		l.failed++
		if l.firstFailure == "" {
			l.firstFailure = fmt.Sprintf("%d %s", status, bytes.TrimSpace(answer))
		}
	}
}

// dialpadCall is an inbound Dialpad call: Dialpad asks the router's
// routing_url (the load balancer) where it goes.
func (l *load) dialpadCall(ctx context.Context, i int) {
	caller := callerNumber(100 + i)
	res, err := l.sims.dp.SimulateInboundCall(ctx, l.sims.router.ID, caller, dialpadNumber)
	want := l.sims.dpAgents[(100+i)%3].ID
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && !res.Fallback && res.TargetType == "user" && res.TargetID == want {
		l.dpRouted++
	} else {
		l.dpFallback++
	}
}

// aircallCall is an inbound Aircall call: call.created goes to the routing
// webhook and the event webhook of every replica at once; once the call is
// transferred (or once its routing has timed out) the agent answers and hangs up, and Aircall
// sends call.answered, call.hungup and call.ended through the load
// balancer.
func (l *load) aircallCall(ctx context.Context, i int) {
	ac := l.sims.ac
	id := ac.CreateInboundCall(callerNumber(i), aircallNumber)
	body, err := ac.Payload("call.created", id)
	if err != nil {
		return
	}
	type answer struct {
		events bool
		status int
	}
	answers := make(chan answer, 2*numReplicas)
	var wg sync.WaitGroup
	for _, p := range l.procs {
		for _, path := range []string{"/aircall/route", "/aircall/events"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, _, _ := l.post(ctx, p.url+path, body)
				answers <- answer{path == "/aircall/events", status}
			}()
		}
	}
	wg.Wait()
	close(answers)
	acked, delivered, refused := false, 0, 0
	for a := range answers {
		switch {
		case a.status == 0:
			refused++
		case a.events && a.status == http.StatusOK:
			acked = true
			fallthrough
		default:
			delivered++
		}
	}

	var c aircalltest.Call
	for deadline := time.Now().Add(routeTimeout + time.Second); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(5 * time.Millisecond) {
		if c, _ = ac.Call(id); c.TransferredAt != 0 {
			break
		}
	}
	agent := c.TransferredTo
	if agent == 0 {
		agent = l.sims.acAgents[i%3].ID
	}
	_ = ac.AnswerCall(id, agent)
	_ = ac.HangUp(id)

	l.mu.Lock()
	defer l.mu.Unlock()
	l.created[id] = acked
	l.createdDelivered += delivered
	l.createdRefused += refused
}

// post sends body and returns the answer's status (0 when no answer
// came), its body, and the replica the load balancer chose (-1 when none
// says).
func (l *load) post(ctx context.Context, url string, body []byte) (int, []byte, int) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, -1
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.hc.Do(req)
	if err != nil {
		return 0, nil, -1
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	replica, err := strconv.Atoi(resp.Header.Get(replicaHeader))
	if err != nil {
		replica = -1
	}
	return resp.StatusCode, answer, replica
}

// report prints what the load did.
func (l *load) report(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	perCall := map[int64]int{}
	for _, t := range l.sims.ac.Transfers() {
		perCall[t.CallID]++
	}
	var once, more, orphaned, stuck int
	for _, n := range perCall {
		if n == 1 {
			once++
		} else {
			more++
		}
	}
	// A call nobody transferred that no survivor even started routing was
	// claimed by the victim, which died before transferring it.
	for id := range l.created {
		survivor := false
		for i, ran := range l.led.routedBy(eventKey("aircall", strconv.FormatInt(id, 10), "route")) {
			survivor = survivor || (ran && i != victim)
		}
		switch {
		case perCall[id] > 0:
		case survivor:
			stuck++ // a live replica routed it, and its transfer did not go through
		default:
			orphaned++
		}
	}
	why := ""
	if l.failedOnVictim > 0 {
		why = fmt.Sprintf(" (%d in flight on replica %d when it was killed)", l.failedOnVictim, victim+1)
	}
	fmt.Fprintf(w, "click-to-call: %d requests in %v, 3x the quotas (JustCall %d/min for the account, Dialpad %d/min for each of 3 agents): %d placed, %d refused by the client without sending, %d refused by the provider (429), %d failed%s\n",
		justcallDials+dialpadDials, loadDuration, justcallQuota, dialpadQuota, l.dialed, l.refused, l.throttled, l.failed, why)
	if l.firstFailure != "" {
		fmt.Fprintf(w, "  first other failure: %s\n", l.firstFailure)
	}
	fmt.Fprintf(w, "dialpad routing: %d inbound calls: %d sent to the caller's agent, %d to the fallback\n",
		dialpadCalls, l.dpRouted, l.dpFallback)
	var whys []string
	if orphaned > 0 {
		whys = append(whys, fmt.Sprintf("%d claimed by replica %d, killed before it transferred them: left to Aircall's own routing", orphaned, victim+1))
	}
	if stuck > 0 {
		whys = append(whys, fmt.Sprintf("%d routed by a live replica whose transfer did not go through in %v", stuck, routeTimeout))
	}
	why = ""
	if len(whys) > 0 {
		why = " (" + strings.Join(whys, "; ") + ")"
	}
	fmt.Fprintf(w, "aircall routing: %d inbound calls, call.created delivered to all %d replicas (%d deliveries answered, %d refused by a dead replica): %d transferred once, %d more than once, %d not transferred%s\n",
		aircallCalls, numReplicas, l.createdDelivered, l.createdRefused, once, more, aircallCalls-once-more, why)
	fmt.Fprintf(w, "kill: replica %d (pid %d) killed with SIGKILL %v into the load, holding %d event(s) it had taken and not finished\n",
		victim+1, l.procs[victim].pid(), l.killedAt.Sub(l.dialStart).Round(100*time.Millisecond), l.held)
}
