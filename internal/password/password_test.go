package password

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testParams keep argon2id cheap enough for -race; 1 MiB is still real work.
var testParams = Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newTestHasher(tb testing.TB, maxConcurrent int) *Hasher {
	tb.Helper()
	return NewHasher(testParams, maxConcurrent)
}

func mustHash(tb testing.TB, h *Hasher, plain string) string {
	tb.Helper()
	phc, err := h.Hash(context.Background(), plain)
	if err != nil {
		tb.Fatalf("Hash(%q) error = %v, want nil", plain, err)
	}
	return phc
}

func TestDefaultParams(t *testing.T) {
	t.Parallel()
	want := Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	if got := DefaultParams(); got != want {
		t.Errorf("DefaultParams() = %+v, want %+v", got, want)
	}
	if got := NewHasher(Params{}, 1).params; got != want {
		t.Errorf("NewHasher(Params{}).params = %+v, want %+v", got, want)
	}
}

func TestHashFormat(t *testing.T) {
	t.Parallel()
	h := newTestHasher(t, 0)
	phc := mustHash(t, h, "correct horse")
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(phc) {
		t.Errorf("Hash(%q) = %q, want match for %s", "correct horse", phc, re)
	}
	if again := mustHash(t, h, "correct horse"); again == phc {
		t.Errorf("Hash(%q) twice = %q both times, want distinct salts", "correct horse", phc)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	h := newTestHasher(t, 0)
	phc := mustHash(t, h, "correct horse")

	tests := []struct {
		name   string
		plain  string
		wantOK bool
	}{
		{"right", "correct horse", true},
		{"wrong", "correct horsE", false},
		{"empty", "", false},
		{"prefix", "correct hors", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := h.Verify(context.Background(), tt.plain, phc)
			if ok != tt.wantOK || rehash || err != nil {
				t.Errorf("Verify(%q) = %v, %v, %v, want %v, false, nil", tt.plain, ok, rehash, err, tt.wantOK)
			}
		})
	}
}

func TestVerifyNeedsRehash(t *testing.T) {
	t.Parallel()
	old := NewHasher(Params{Memory: 512, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)
	phc := mustHash(t, old, "pw")

	tests := []struct {
		name string
		p    Params
		want bool
	}{
		{"same", old.params, false},
		{"memory", Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"time", Params{Memory: 512, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"threads", Params{Memory: 512, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}, true},
		{"salt", Params{Memory: 512, Time: 1, Threads: 1, SaltLen: 24, KeyLen: 32}, true},
		{"key", Params{Memory: 512, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 64}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := NewHasher(tt.p, 0).Verify(context.Background(), "pw", phc)
			if !ok || rehash != tt.want || err != nil {
				t.Errorf("Verify(%q) with %+v = %v, %v, %v, want true, %v, nil", "pw", tt.p, ok, rehash, err, tt.want)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	h := newTestHasher(t, 0)
	const salt, key = "c2FsdHNhbHRzYWx0c2FsdA", "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	if _, _, err := h.Verify(context.Background(), "pw", "$argon2id$v=19$m=1024,t=1,p=1$"+salt+"$"+key); err != nil {
		t.Fatalf("Verify of the well-formed base case = %v, want nil", err)
	}

	tests := []struct {
		name, phc string
	}{
		{"empty", ""},
		{"garbage", "not a hash"},
		{"bcrypt truncated", "$2a$10$N9qo8uLOickgx2ZMRZoMye"},
		{"argon2i", "$argon2i$v=19$m=1024,t=1,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=1024,t=1,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=1024,t=1,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=1024,t=1,p=1$" + salt + "$" + key},
		{"extra field", "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$" + key + "$x"},
		{"params order", "$argon2id$v=19$t=1,m=1024,p=1$" + salt + "$" + key},
		{"params missing", "$argon2id$v=19$m=1024,t=1$" + salt + "$" + key},
		{"params text", "$argon2id$v=19$m=lots,t=1,p=1$" + salt + "$" + key},
		{"params negative", "$argon2id$v=19$m=1024,t=-1,p=1$" + salt + "$" + key},
		{"params sign", "$argon2id$v=19$m=+1024,t=1,p=1$" + salt + "$" + key},
		{"params leading zero", "$argon2id$v=19$m=01024,t=1,p=1$" + salt + "$" + key},
		{"zero time", "$argon2id$v=19$m=1024,t=0,p=1$" + salt + "$" + key},
		{"zero threads", "$argon2id$v=19$m=1024,t=1,p=0$" + salt + "$" + key},
		{"threads overflow", "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key},
		{"memory below floor", "$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + key},
		{"memory huge", "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key},
		{"time huge", "$argon2id$v=19$m=1024,t=100000,p=1$" + salt + "$" + key},
		{"salt bad base64", "$argon2id$v=19$m=1024,t=1,p=1$not*base64!$" + key},
		{"salt padded", "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "==$" + key},
		{"salt short", "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$" + key},
		{"hash bad base64", "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$%%%"},
		{"hash short", "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$aGFzaA"},
		{"hash empty", "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := h.Verify(context.Background(), "pw", tt.phc)
			if ok || rehash || !errors.Is(err, ErrMalformed) {
				t.Errorf("Verify(%q) = %v, %v, %v, want false, false, ErrMalformed", tt.phc, ok, rehash, err)
			}
		})
	}
}

func TestVerifyDummy(t *testing.T) {
	t.Parallel()
	h := newTestHasher(t, 0)
	var calls atomic.Int32
	h.derive = func(plain, salt []byte, p Params) []byte {
		calls.Add(1)
		if p != testParams {
			t.Errorf("VerifyDummy derived with %+v, want %+v", p, testParams)
		}
		return argon2id(plain, salt, p)
	}
	h.VerifyDummy(context.Background(), "anything")
	if got := calls.Load(); got != 1 {
		t.Errorf("VerifyDummy derived %d keys, want 1", got)
	}
}

// TestConcurrencyLimit runs many hashes at once against an instrumented
// derive and checks the most that ever ran together.
func TestConcurrencyLimit(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{1, 3} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			t.Parallel()
			h := newTestHasher(t, limit)
			var running, peak atomic.Int32
			h.derive = func(plain, salt []byte, p Params) []byte {
				n := running.Add(1)
				defer running.Add(-1)
				for {
					old := peak.Load()
					if n <= old || peak.CompareAndSwap(old, n) {
						break
					}
				}
				// Linger until the limit is reached, so any overlap the
				// limiter permits actually happens. The bound only keeps a
				// broken limiter from hanging the test; a busy machine
				// reaches the limit long before it.
				deadline := time.Now().Add(time.Minute)
				for peak.Load() < int32(limit) && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				time.Sleep(5 * time.Millisecond)
				return make([]byte, p.KeyLen)
			}

			var wg sync.WaitGroup
			for i := range 4 * limit {
				wg.Go(func() {
					if _, err := h.Hash(context.Background(), fmt.Sprint(i)); err != nil {
						t.Errorf("Hash(%q) = %v, want nil", fmt.Sprint(i), err)
					}
				})
			}
			wg.Wait()
			if got := peak.Load(); got != int32(limit) {
				t.Errorf("peak concurrent derivations = %d, want %d", got, limit)
			}
		})
	}
}

func TestContextCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	h := newTestHasher(t, 1)
	entered, release := make(chan struct{}), make(chan struct{})
	h.derive = func(plain, salt []byte, p Params) []byte {
		close(entered)
		<-release
		return make([]byte, p.KeyLen)
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "first")
		done <- err
	}()
	<-entered // the only slot is now taken

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := h.Hash(ctx, "second"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash(%q) while waiting = %v, want context.Canceled", "second", err)
	}
	if _, _, err := h.Verify(ctx, "second", h.dummy); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify(%q) with cancelled ctx = %v, want context.Canceled", "second", err)
	}

	close(release)
	if err := <-done; err != nil {
		t.Errorf("Hash(%q) = %v, want nil", "first", err)
	}
}

// TestOnWait checks that every computation, whichever method asks for it
// and whether or not it queued behind a held slot, reports its wait once.
func TestOnWait(t *testing.T) {
	t.Parallel()
	h := newTestHasher(t, 1)
	var mu sync.Mutex
	var waits []time.Duration
	h.OnWait(func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
	})
	phc, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatalf("Hash = %v", err)
	}
	if _, _, err := h.Verify(context.Background(), "pw", phc); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	h.VerifyDummy(context.Background(), "pw")

	// Hold the only slot while a second hash starts, so it may queue.
	entered, release := make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	h.derive = func(plain, salt []byte, p Params) []byte {
		if held.CompareAndSwap(false, true) {
			close(entered)
			<-release
		}
		return make([]byte, p.KeyLen)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = h.Hash(context.Background(), "first") })
	<-entered
	wg.Go(func() { _, _ = h.Hash(context.Background(), "second") })
	close(release)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 5 {
		t.Fatalf("OnWait called %d times for 5 computations, want 5: %v", len(waits), waits)
	}
	for i, d := range waits {
		if d < 0 {
			t.Errorf("wait %d = %v, want >= 0", i, d)
		}
	}
}
