package keys_test

import (
	"context"
	"crypto/rand"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/secrets"
)

// newBox returns a secrets.Local under a fresh random master key.
func newBox(tb testing.TB) *secrets.Local {
	tb.Helper()
	master := make([]byte, 32)
	rand.Read(master)
	box, err := secrets.NewLocal(master)
	if err != nil {
		tb.Fatalf("secrets.NewLocal = %v", err)
	}
	return box
}

// memStore is an in-memory keys.Store that counts its reads. Put keeps
// each app's keys newest first, as the real store returns them.
type memStore struct {
	mu    sync.Mutex
	keys  map[string][]keys.Record
	reads atomic.Int64
	gate  chan struct{} // if not nil, each read waits for a value or close
	err   error
}

func newMemStore() *memStore { return &memStore{keys: make(map[string][]keys.Record)} }

func (s *memStore) ListSigningKeys(ctx context.Context, appID string) ([]keys.Record, error) {
	s.reads.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	return slices.Clone(s.keys[appID]), nil
}

func (s *memStore) Put(recs ...keys.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		list := slices.DeleteFunc(s.keys[r.AppID], func(o keys.Record) bool { return o.KID == r.KID })
		list = append(list, r)
		slices.SortStableFunc(list, func(a, b keys.Record) int { return b.CreatedAt.Compare(a.CreatedAt) })
		s.keys[r.AppID] = list
	}
}

// clock is a settable clock for cache and RetireAt tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// generated holds RSA keys made once for the whole package: generating
// RSA-2048 under the race detector is slow, and most tests only need a
// few distinct public keys.
var generated struct {
	once   sync.Once
	signer *keys.LocalSigner
	recs   []keys.Record
	err    error
}

// genKeys returns n records of app "pool" (n ≤ 4), generated once per test
// binary by a shared LocalSigner, which it also returns.
func genKeys(tb testing.TB, n int) (*keys.LocalSigner, []keys.Record) {
	tb.Helper()
	generated.once.Do(func() {
		generated.signer = keys.NewLocalSigner(newBox(tb))
		for range 4 {
			rec, err := generated.signer.Generate(context.Background(), "pool")
			if err != nil {
				generated.err = err
				return
			}
			generated.recs = append(generated.recs, rec)
		}
	})
	if generated.err != nil {
		tb.Fatalf("Generate: %v", generated.err)
	}
	if n > len(generated.recs) {
		tb.Fatalf("genKeys(%d): only %d keys in the pool", n, len(generated.recs))
	}
	return generated.signer, slices.Clone(generated.recs[:n])
}

// withLife returns rec moved to app, in state st, created at created, with
// RetireAt retire (zero for none).
func withLife(rec keys.Record, app string, st keys.State, created, retire time.Time) keys.Record {
	rec.AppID = app
	rec.State = st
	rec.CreatedAt = created
	rec.RetireAt = retire
	if st != keys.StateActive {
		rec.DeactivatedAt = created.Add(time.Minute)
	}
	return rec
}

func kids(recs []keys.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.KID
	}
	return out
}
