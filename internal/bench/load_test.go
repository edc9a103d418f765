package bench

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestRunPaced(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]bool{}
	start := time.Now()
	done, due, err := RunPaced(context.Background(), 100, 3, 300*time.Millisecond, func(_ context.Context, k int) error {
		if time.Since(start) < time.Duration(k)*10*time.Millisecond {
			t.Errorf("call %d started before it was due", k)
		}
		mu.Lock()
		defer mu.Unlock()
		if seen[k] {
			t.Errorf("call %d made twice", k)
		}
		seen[k] = true
		return nil
	})
	if err != nil || due != 30 || done < 27 || done > 30 || len(seen) != done {
		t.Fatalf("done %d of %d due (%d distinct), err %v", done, due, len(seen), err)
	}

	boom := errors.New("boom")
	if _, _, err := RunPaced(context.Background(), 1000, 2, time.Second, func(_ context.Context, k int) error {
		if k == 5 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
}

type countingSystem struct {
	mu sync.Mutex
	n  int
}

func (c *countingSystem) Name() string { return "counting" }
func (c *countingSystem) Answer(context.Context, Case) (Answer, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	time.Sleep(time.Millisecond)
	return Answer{}, nil
}

func TestRunClosed(t *testing.T) {
	sys := &countingSystem{}
	res, err := RunClosed(context.Background(), sys, []Case{{Class: "x"}}, 2, 100*time.Millisecond)
	if err != nil || res.Answers != sys.n || res.Answers < 20 || len(res.Latencies) != res.Answers || res.QPS() <= 0 {
		t.Fatalf("%d answers (%d calls), %d latencies, err %v", res.Answers, sys.n, len(res.Latencies), err)
	}
}
