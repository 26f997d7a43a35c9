package cosync

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
)

// A SessionStore keeps a Client's session between runs. The Client calls
// Load once, on first use, and Save after every change, one call at a
// time. Implementations keep secrets: the refresh token signs the user in.
type SessionStore interface {
	// Load returns the saved session, or nil when there is none.
	Load(ctx context.Context) (*authv1.Session, error)
	// Save replaces the saved session with s; nil deletes it.
	Save(ctx context.Context, s *authv1.Session) error
}

// MemoryStore is a SessionStore that keeps the session in memory only; the
// zero value is empty and ready. It is safe for concurrent use.
type MemoryStore struct {
	mu sync.Mutex
	s  *authv1.Session
}

// Load returns a copy of the session last saved, or nil.
func (m *MemoryStore) Load(context.Context) (*authv1.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return cloneSession(m.s), nil
}

// Save keeps a copy of s; nil forgets the session.
func (m *MemoryStore) Save(_ context.Context, s *authv1.Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.s = cloneSession(s)
	return nil
}

func cloneSession(s *authv1.Session) *authv1.Session {
	if s == nil {
		return nil
	}
	return proto.CloneOf(s)
}

// refreshTimeout bounds a refresh that no caller may cancel alone: it runs
// for all callers waiting on it.
const refreshTimeout = time.Minute

// sessionHolder holds a Client's session and refreshes it single-flight.
type sessionHolder struct {
	store   SessionStore
	refresh func(ctx context.Context, refreshToken string) (*authv1.Session, error)
	now     func() time.Time
	before  time.Duration

	mu     sync.Mutex
	loaded bool
	sess   *authv1.Session
	gen    uint64         // counts replacements of sess, so a refresh never overwrites a newer sign-in
	flight *refreshFlight // the refresh under way, or nil
}

// refreshFlight is one RefreshSession call and its outcome; done closes
// when token and err are set.
type refreshFlight struct {
	done  chan struct{}
	token string
	err   error
}

func newSessionHolder(cfg clientConfig, refresh func(context.Context, string) (*authv1.Session, error)) *sessionHolder {
	return &sessionHolder{store: cfg.store, refresh: refresh, now: cfg.now, before: cfg.refreshBefore}
}

func (h *sessionHolder) loadLocked(ctx context.Context) error {
	if h.loaded {
		return nil
	}
	s, err := h.store.Load(ctx)
	if err != nil {
		return fmt.Errorf("cosync: load session: %w", err)
	}
	h.sess, h.loaded = s, true
	return nil
}

func (h *sessionHolder) current(ctx context.Context) (*authv1.Session, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.loadLocked(ctx); err != nil {
		return nil, err
	}
	return cloneSession(h.sess), nil
}

func (h *sessionHolder) set(ctx context.Context, s *authv1.Session) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.setLocked(ctx, s)
}

func (h *sessionHolder) setLocked(ctx context.Context, s *authv1.Session) error {
	h.sess, h.loaded = cloneSession(s), true
	h.gen++
	if err := h.store.Save(ctx, s); err != nil {
		return fmt.Errorf("cosync: save session: %w", err)
	}
	return nil
}

// needsRefresh reports whether s expires within the refresh margin and
// can be refreshed.
func (h *sessionHolder) needsRefresh(s *authv1.Session) bool {
	if s.GetRefreshToken() == "" || s.GetExpiresAt() == nil {
		return false
	}
	return !h.now().Add(h.before).Before(s.GetExpiresAt().AsTime())
}

func (h *sessionHolder) accessToken(ctx context.Context) (string, error) {
	h.mu.Lock()
	if err := h.loadLocked(ctx); err != nil {
		h.mu.Unlock()
		return "", err
	}
	s := h.sess
	if s == nil || !h.needsRefresh(s) {
		h.mu.Unlock()
		return s.GetAccessToken(), nil
	}
	f := h.flight
	if f == nil {
		f = &refreshFlight{done: make(chan struct{})}
		h.flight = f
		// The refresh serves every caller that waits on it, so no single
		// caller's cancellation may abort it.
		go h.runRefresh(context.WithoutCancel(ctx), f, s, h.gen)
	}
	h.mu.Unlock()
	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (h *sessionHolder) runRefresh(ctx context.Context, f *refreshFlight, old *authv1.Session, gen uint64) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	fresh, err := h.refresh(ctx, old.GetRefreshToken())
	if err == nil && fresh == nil {
		err = errors.New("the server answered without a session")
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	defer close(f.done)
	h.flight = nil
	replaced := h.gen != gen // a sign-in or SetSession won meanwhile: keep it
	switch {
	case replaced:
		f.token = h.sess.GetAccessToken()
	case err == nil:
		f.token, f.err = fresh.GetAccessToken(), h.setLocked(ctx, fresh)
	case sessionEnded(err):
		if serr := h.setLocked(ctx, nil); serr != nil {
			err = errors.Join(err, serr)
		}
		f.err = fmt.Errorf("cosync: session ended: %w", err)
	case h.now().Before(old.GetExpiresAt().AsTime()):
		// A failed refresh inside the margin is not yet a failure: the
		// token still works, and the next call tries again.
		f.token = old.GetAccessToken()
	default:
		f.err = fmt.Errorf("cosync: refresh session: %w", err)
	}
}

// sessionEnded reports whether err means the server will never refresh
// the session again (revoked, reused or expired refresh token, suspended
// account), as opposed to a failure worth retrying.
func sessionEnded(err error) bool {
	switch connect.CodeOf(err) {
	case connect.CodeUnauthenticated, connect.CodePermissionDenied:
		return true
	}
	return false
}
