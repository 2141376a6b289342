package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/internal/redistest"
	"github.com/switchboard-go/switchboard/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	redistest.Shutdown()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// With one Redis shared by the replicas, every call is transferred once,
// the providers see no 429s and the load gets all the quotas allow, and
// the killed replica's events are processed once, by the survivors. Each
// event is processed exactly once here because the event log marks a key
// done after processing and locks it while it runs; it is at-least-once in
// general (a replica killed between its EventFunc's effect and the
// acknowledgement would have it run again).
func TestReplicasShareRedis(t *testing.T) {
	testenv.Long(t) // 10-20 s: builds the example and runs four processes
	url := redisURL(t)
	run := runExample(t, []string{envRedis + "=" + url})
	require.Equal(t, 0, run.exit, "exit status; output:\n%s", run.out)
	f := run.figures
	assert.Equal(t, justcallDials+dialpadDials+dialpadCalls+aircallCalls, f.calls, "calls")
	assert.Positive(t, f.held, "the killed replica held no unacknowledged events: nothing was at stake")
	assert.Equal(t, 1, f.maxTransfers, "a call transferred more than once, or none transferred")
	assert.Zero(t, f.lost, "events acknowledged and never processed")
	assert.Zero(t, f.twice, "events processed more than once")
	assert.Equal(t, f.throttled, f.throttledLine, "429s of the last line and of the providers line")
	share := 100 * float64(f.throttled) / float64(f.requests)
	goodput := float64(f.placed) / float64(f.allowed)
	t.Logf("provider 429s: %d of %d requests = %.2f%% (goal <= 1%%)", f.throttled, f.requests, share)
	t.Logf("goodput: %d click-to-calls placed of the %d the quotas allowed over %v = %.2f (goal >= 0.9)", f.placed, f.allowed, f.span, goodput)
	assert.LessOrEqual(t, share, 1.0, "429s as a share of the provider requests")
	assert.GreaterOrEqual(t, goodput, 0.9, "goodput against the quotas")
}

// Without Redis each replica spends the whole quota and routes every
// delivery of call.created itself, and the killed replica's events die
// with it: the program says so and exits non-zero.
func TestReplicasWithoutRedisBreak(t *testing.T) {
	testenv.Long(t) // about 15 s
	run := runExample(t, nil, "-store", "memory")
	f := run.figures
	assert.NotEqual(t, 0, run.exit, "exit status; output:\n%s", run.out)
	assert.True(t, f.maxTransfers > 1 || f.throttled > 0, "no breakage shown: transfers max=%d, 429s=%d", f.maxTransfers, f.throttled)
	share := 100 * float64(f.throttled) / float64(f.requests)
	t.Logf("memory: transfers per call max=%d; provider 429s %d of %d requests = %.1f%%; events lost=%d, processed twice=%d; goodput %d/%d = %.2f",
		f.maxTransfers, f.throttled, f.requests, share, f.lost, f.twice, f.placed, f.allowed, float64(f.placed)/float64(f.allowed))
}

// The last line is exactly the one the issue asks for.
func TestFinalLine(t *testing.T) {
	r := result{Calls: 165, MaxTransfers: 1, Throttled: 0, Lost: 0, Twice: 0}
	assert.Equal(t, "replicas: 3 processes, 165 calls; transfers per call max=1; provider 429s=0; events lost=0; events processed twice=0", r.line())
	assert.True(t, r.ok())
	assert.False(t, result{MaxTransfers: 2}.ok())
	assert.False(t, result{MaxTransfers: 1, Lost: 1}.ok())
	assert.True(t, result{MaxTransfers: 1, Twice: 3}.ok(), "processed twice is reported, not fatal: at-least-once allows it")
}

// The CRM knows exactly the callers the load uses.
func TestLastAgent(t *testing.T) {
	for i := range 200 {
		email, err := lastAgent(t.Context(), callerNumber(i))
		require.NoError(t, err)
		assert.Equal(t, agents[i%len(agents)].Email, email, "caller %d", i)
	}
	email, _ := lastAgent(t.Context(), "+14155550000")
	assert.Empty(t, email)
}

// redisURL returns the Redis the example should use: SWITCHBOARD_REDIS_URL,
// else a database of the test binary's own redis-server. It skips the test
// (or fails it under SWITCHBOARD_REQUIRE_REDIS=1) when there is neither.
func redisURL(t *testing.T) string {
	if u := os.Getenv(redistest.URLEnv); u != "" {
		return u
	}
	o := redistest.Client(t).Options()
	return fmt.Sprintf("redis://%s/%d", o.Addr, o.DB)
}

// figures are what a run printed.
type figures struct {
	calls, maxTransfers, throttled, lost, twice int
	requests, throttledLine, placed, allowed    int
	held                                        int // events the killed replica held
	span                                        time.Duration
}

type exampleRun struct {
	out     string
	exit    int
	figures figures
}

var (
	finalRE     = regexp.MustCompile(`^replicas: 3 processes, (\d+) calls; transfers per call max=(\d+); provider 429s=(\d+); events lost=(\d+); events processed twice=(\d+)$`)
	killRE      = regexp.MustCompile(`^kill: .* holding (\d+) event\(s\) it had taken and not finished$`)
	providersRE = regexp.MustCompile(`^providers: (\d+) requests, (\d+) answered 429 .*click-to-call: (\d+) placed of the (\d+) the quotas allowed in (\S+) `)
)

// runExample builds the example once and runs it with env added and args,
// and parses its last line and its providers line.
func runExample(t *testing.T, env []string, args ...string) exampleRun {
	t.Helper()
	bin := buildExample(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := exampleRun{out: stdout.String() + stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.exit = ee.ExitCode()
	case err != nil:
		t.Fatalf("running the example: %v\n%s", err, r.out)
	}
	t.Logf("%s: exit %d in %v\n%s", strings.Join(append([]string{filepath.Base(bin)}, args...), " "), r.exit,
		time.Since(start).Round(100*time.Millisecond), r.out)
	// The binary has the race detector when the test has it; a replica's
	// report ends up in a "warning:" line (it exits 66 when stopped).
	require.NotContains(t, r.out, "DATA RACE")
	require.NotContains(t, r.out, "warning:")

	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	m := finalRE.FindStringSubmatch(lines[len(lines)-1])
	require.NotNil(t, m, "the last line is not the summary line: %q", lines[len(lines)-1])
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	f := &r.figures
	f.calls, f.maxTransfers, f.throttled, f.lost, f.twice = n(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5])
	for _, l := range lines {
		if k := killRE.FindStringSubmatch(l); k != nil {
			f.held = n(k[1])
		}
		if p := providersRE.FindStringSubmatch(l); p != nil {
			f.requests, f.throttledLine, f.placed, f.allowed = n(p[1]), n(p[2]), n(p[3]), n(p[4])
			f.span, _ = time.ParseDuration(p[5])
		}
	}
	require.NotZero(t, f.requests, "no providers line")
	require.NotZero(t, f.allowed, "no providers line")
	return r
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// buildExample builds this program (with the race detector when the test
// has it) and returns the binary's path.
func buildExample(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "switchboard-replicas-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "replicas")
		args := []string{"build", "-o", binPath}
		if testenv.Race {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}
