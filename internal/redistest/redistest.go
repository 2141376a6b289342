// Package redistest gives tests a real Redis: the server named by
// SWITCHBOARD_REDIS_URL when set, otherwise a redis-server started on a
// free loopback port for the test binary, and stopped with it. When neither
// is possible the test is skipped with a clear message, unless
// SWITCHBOARD_REQUIRE_REDIS=1 (CI sets it), which makes that a failure.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Environment variables read by this package.
const (
	URLEnv     = "SWITCHBOARD_REDIS_URL"
	RequireEnv = "SWITCHBOARD_REQUIRE_REDIS"
)

var (
	once    sync.Once
	shared  *Server
	initErr error
	dbSeq   atomic.Int64
)

// Server is a redis-server this package started.
type Server struct {
	Addr string
	cmd  *exec.Cmd
	dir  string
}

// Start starts a private redis-server on a free loopback port, with no
// persistence. Stop it with Stop. Tests that stop Redis on purpose (fault
// tests) use their own; others share one through Client.
func Start() (*Server, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server is not on PATH (Debian: apt-get install redis-server)")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "switchboard-redis-")
	if err != nil {
		return nil, err
	}
	return startAt(path, port, dir)
}

func startAt(path string, port int, dir string) (*Server, error) {
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"), "--databases", "1024")
	// The server dies with the test binary, even one that is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting redis-server: %v", err)
	}
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), cmd: cmd, dir: dir}
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("redis-server did not answer on %s: %v", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (like a crash: no shutdown save).
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	p, _ := strconv.Atoi(port)
	ns, err := startAt(s.cmd.Path, p, s.dir)
	if err != nil {
		return err
	}
	s.cmd = ns.cmd
	return nil
}

// Close stops the server and removes its directory.
func (s *Server) Close() {
	s.Stop()
	_ = os.RemoveAll(s.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Unavailable skips t, or fails it under SWITCHBOARD_REQUIRE_REDIS=1,
// saying why Redis cannot be had.
func Unavailable(t testing.TB, why error) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("Redis is required (%s=1) but not available: %v", RequireEnv, why)
	}
	t.Skipf("no Redis: %v (set %s, or install redis-server; %s=1 makes this a failure)", why, URLEnv, RequireEnv)
}

// Options returns redis.Options for a database of its own on the shared
// test Redis (flushed first), so tests in one binary do not see each
// other's keys. It skips (or fails, see the package doc) without Redis.
func Options(t testing.TB) *redis.Options {
	t.Helper()
	var opts *redis.Options
	if u := os.Getenv(URLEnv); u != "" {
		o, err := redis.ParseURL(u)
		if err != nil {
			t.Fatalf("%s: %v", URLEnv, err)
		}
		opts = o
	} else {
		once.Do(func() { shared, initErr = Start() })
		if initErr != nil {
			Unavailable(t, initErr)
		}
		opts = &redis.Options{Addr: shared.Addr, DB: int(dbSeq.Add(1) % 1024)}
	}
	return opts
}

// Client returns a client closed when the test ends: of a database of its
// own (flushed) on the test binary's redis-server, or of the server
// SWITCHBOARD_REDIS_URL names (not flushed: give each test its own key
// prefix with Prefix).
func Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(Options(t))
	err := c.Ping(context.Background()).Err()
	if err == nil && os.Getenv(URLEnv) == "" {
		err = c.FlushDB(context.Background()).Err()
	}
	if err != nil {
		c.Close()
		Unavailable(t, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

var prefixSeq atomic.Int64

// Prefix returns a key prefix no other test of any package uses.
func Prefix(t testing.TB) string {
	return fmt.Sprintf("sbtest:%d:%d:%s:", os.Getpid(), prefixSeq.Add(1), t.Name())
}

// Shutdown stops the shared server, if this package started one. Call it
// from TestMain after m.Run.
func Shutdown() {
	if shared != nil {
		shared.Close()
	}
}
