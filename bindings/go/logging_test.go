package redisx_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

// syncBuffer is a bytes.Buffer safe for the event goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLoggerGetsTheCoreLinesAtItsLevels(t *testing.T) {
	var buf syncBuffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var seen []string
	var mu sync.Mutex
	c, err := redisx.Open(serverURL, redisx.WithLogger(l), redisx.WithLogHandler(func(e redisx.LogEntry) {
		mu.Lock()
		seen = append(seen, e.Message)
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(ctxFor(t), "PING"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a ready line at INFO", func() bool { return strings.Contains(buf.String(), "ready") })
	c.Close()
	out := buf.String()
	if !strings.Contains(out, "level=INFO") || !strings.Contains(out, "library=redisx") {
		t.Errorf("slog output %q", out)
	}
	if strings.Contains(out, "level=DEBUG") {
		t.Errorf("an INFO logger got DEBUG lines: %q", out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 {
		t.Error("WithLogHandler beside WithLogger got nothing")
	}
}

func TestNoPasswordInTheLogs(t *testing.T) {
	var buf syncBuffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const secret = "s3cr3t-Pa55word"
	c, err := redisx.Open("redis://user:"+secret+"@127.0.0.1:1/0", redisx.WithLogger(l),
		redisx.WithConnectTimeout(200*time.Millisecond), redisx.WithCommandTimeout(500*time.Millisecond),
		redisx.WithReconnectBackoff(10*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), "PING")
	if !errors.Is(err, redisx.ErrConnection) || strings.Contains(err.Error(), secret) {
		t.Errorf("PING to nothing: %v", err)
	}
	c.Close()
	out := buf.String()
	if out == "" {
		t.Error("no log line for the failed connects")
	}
	if strings.Contains(out, secret) {
		t.Errorf("the password is in the logs: %q", out)
	}
}
