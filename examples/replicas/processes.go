package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// process is one replica process.
type process struct {
	index  int
	cmd    *exec.Cmd
	stdin  io.WriteCloser // closing it asks the replica to shut down
	url    string
	stderr *tail
	done   chan struct{} // closed once the process has exited
	err    error         // what Wait returned
}

// startProcess re-executes this binary as replica i with env added to the
// environment, and waits for it to listen.
func startProcess(ctx context.Context, i int, env []string, verbose bool) (*process, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-replica")
	cmd.Env = append(append(os.Environ(), env...), envIndex+"="+strconv.Itoa(i))
	if i == victim {
		cmd.Env = append(cmd.Env, envStall+"=1")
	}
	if verbose {
		cmd.Env = append(cmd.Env, envVerbose+"=1")
	}
	p := &process{index: i, cmd: cmd, stderr: &tail{max: 8 << 10}, done: make(chan struct{})}
	ready := &readyWriter{ready: make(chan string, 1)}
	cmd.Stdout = ready
	cmd.Stderr = p.stderr
	if verbose {
		cmd.Stderr = io.MultiWriter(os.Stderr, p.stderr)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting replica %d: %w", i+1, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	timer := time.NewTimer(15 * time.Second)
	defer timer.Stop()
	select {
	case p.url = <-ready.ready:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("replica %d exited before listening (%v): %s", i+1, p.err, strings.TrimSpace(p.stderr.String()))
	case <-timer.C:
	case <-ctx.Done():
	}
	p.kill()
	return nil, fmt.Errorf("replica %d did not start listening: %s", i+1, strings.TrimSpace(p.stderr.String()))
}

// pid returns the process id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// kill ends the process at once: SIGKILL on Unix, no shutdown of any kind.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// stop asks the replica to shut down (it drains its handlers), and kills it
// if it has not exited within 10 s.
func (p *process) stop() error {
	_ = p.stdin.Close()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		p.kill()
		return fmt.Errorf("replica %d did not shut down within 10s; killed", p.index+1)
	}
	if p.err != nil {
		return fmt.Errorf("replica %d: %v: %s", p.index+1, p.err, strings.TrimSpace(p.stderr.String()))
	}
	return nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// readyWriter is a replica's standard output: it passes on the URL of the
// ready line and discards the rest.
type readyWriter struct {
	mu    sync.Mutex
	buf   []byte
	sent  bool
	ready chan string
}

func (w *readyWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sent {
		return len(b), nil
	}
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) > 4<<10 {
				w.buf = w.buf[:0]
			}
			return len(b), nil
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if url, ok := strings.CutPrefix(line, readyPrefix); ok {
			w.sent = true
			w.ready <- strings.TrimSpace(url)
			return len(b), nil
		}
	}
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
