package switchd

import (
	"context"
	"sync"

	"github.com/cardswitch/cardswitch/switch/issuer"
)

// linkChanges lets callers wait for issuer links to change state without
// polling: every change closes the current channel and makes a new one.
type linkChanges struct {
	mu      sync.Mutex
	changed chan struct{}
}

func (b *linkChanges) init() { b.changedCh() }

func (b *linkChanges) changedCh() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	return b.changed
}

func (b *linkChanges) notify(*issuer.Link, bool) {
	b.mu.Lock()
	if b.changed != nil {
		close(b.changed)
	}
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// wait blocks until ok() holds (checked after every link state change) or
// ctx ends.
func (b *linkChanges) wait(ctx context.Context, ok func() bool) error {
	for {
		ch := b.changedCh()
		if ok() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Await blocks until cond holds, re-checking it after every issuer link
// state change and every reload (applied or rejected), or until ctx ends.
func (s *Switch) Await(ctx context.Context, cond func() bool) error {
	return s.linkChanges.wait(ctx, cond)
}

// IssuerLinksUp counts the signed-on links of the named issuer (-1 if the
// issuer is unknown).
func (s *Switch) IssuerLinksUp(name string) int {
	if is := s.issuerNamed(name); is != nil {
		return is.UpLinks()
	}
	return -1
}

// issuerNamed finds an issuer in the routing state in force, nil if none.
func (s *Switch) issuerNamed(name string) *issuer.Issuer {
	snap := s.routes.Load()
	if i := snap.cfg.IssuerIndex(name); i >= 0 {
		return snap.issuers[i]
	}
	return nil
}

// WaitIssuer blocks until ok(number of the named issuer's links up) holds,
// or ctx ends. Tests and the readiness check use it instead of polling.
func (s *Switch) WaitIssuer(ctx context.Context, name string, ok func(up int) bool) error {
	return s.linkChanges.wait(ctx, func() bool { return ok(s.IssuerLinksUp(name)) })
}
