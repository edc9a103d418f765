// Package commit lets a domain operation that spans several writes say
// "do this once it is committed" without knowing about transactions. The
// store opens a unit of work (store.DB.InTx) that makes every write and
// audit entry of the operation one transaction; work registered with After
// inside it runs only if, and when, that transaction commits — so an
// in-memory search index, say, never shows a change that was rolled back.
// Outside a unit of work each write commits by itself and After runs the
// work at once.
package commit

import (
	"context"
	"sync"
)

type hooksKey struct{}

// Hooks collects the work to run after one commit.
type Hooks struct {
	mu  sync.Mutex
	fns []func()
}

// With returns a context whose After calls are collected in the returned
// Hooks instead of running at once.
func With(ctx context.Context) (context.Context, *Hooks) {
	h := &Hooks{}
	return context.WithValue(ctx, hooksKey{}, h), h
}

// After runs fn once the unit of work ctx belongs to has committed, or at
// once when ctx belongs to none.
func After(ctx context.Context, fn func()) {
	if h, ok := ctx.Value(hooksKey{}).(*Hooks); ok {
		h.mu.Lock()
		h.fns = append(h.fns, fn)
		h.mu.Unlock()
		return
	}
	fn()
}

// Run runs the collected work, in the order it was registered; the store
// calls it after COMMIT.
func (h *Hooks) Run() {
	h.mu.Lock()
	fns := h.fns
	h.fns = nil
	h.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// Runner makes several writes one unit of work: store.DB.InTx.
type Runner interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Do runs fn as one unit of work on r, or directly when r is nil (tools
// and tests that have no store).
func Do(ctx context.Context, r Runner, fn func(ctx context.Context) error) error {
	if r == nil {
		return fn(ctx)
	}
	return r.InTx(ctx, fn)
}
