package cosync

import (
	"context"
	"errors"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
)

// fakeRefresher answers RefreshSession from a channel, so a test decides
// when a refresh ends and how.
type fakeRefresher struct {
	calls   chan string // receives each refresh token presented
	answers chan refreshAnswer
}

type refreshAnswer struct {
	s   *authv1.Session
	err error
}

func newFakeRefresher() *fakeRefresher {
	return &fakeRefresher{calls: make(chan string, 10), answers: make(chan refreshAnswer)}
}

func (f *fakeRefresher) refresh(ctx context.Context, token string) (*authv1.Session, error) {
	f.calls <- token
	select {
	case a := <-f.answers:
		return a.s, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func session(name string, expires time.Time) *authv1.Session {
	return &authv1.Session{AccessToken: "access-" + name, RefreshToken: "refresh-" + name, ExpiresAt: timestamppb.New(expires)}
}

func newTestHolder(f *fakeRefresher) *sessionHolder {
	return newSessionHolder(clientConfig{
		store: &MemoryStore{}, refreshBefore: time.Minute, now: func() time.Time { return t0 },
	}, f.refresh)
}

type tokenResult struct {
	token string
	err   error
}

func tokenAsync(ctx context.Context, h *sessionHolder) chan tokenResult {
	ch := make(chan tokenResult, 1)
	go func() {
		tok, err := h.accessToken(ctx)
		ch <- tokenResult{tok, err}
	}()
	return ch
}

// A sign-in that lands while a refresh is under way wins: the refresh's
// answer must not overwrite it.
func TestRefreshNeverOverwritesNewerSession(t *testing.T) {
	ctx := t.Context()
	f := newFakeRefresher()
	h := newTestHolder(f)
	if err := h.set(ctx, session("old", t0.Add(30*time.Second))); err != nil {
		t.Fatal(err)
	}
	res := tokenAsync(ctx, h)
	if got := <-f.calls; got != "refresh-old" {
		t.Fatalf("refreshed with %q, want refresh-old", got)
	}
	if err := h.set(ctx, session("login", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	f.answers <- refreshAnswer{s: session("refreshed", t0.Add(time.Hour))}
	if r := <-res; r.err != nil || r.token != "access-login" {
		t.Errorf("accessToken = %q, %v; want access-login", r.token, r.err)
	}
	if s, _ := h.current(ctx); s.GetAccessToken() != "access-login" {
		t.Errorf("held session %q, want the newer sign-in", s.GetAccessToken())
	}
}

// One waiter giving up does not abort the refresh the others wait on.
func TestRefreshSurvivesCancelledWaiter(t *testing.T) {
	ctx := t.Context()
	f := newFakeRefresher()
	h := newTestHolder(f)
	if err := h.set(ctx, session("old", t0.Add(30*time.Second))); err != nil {
		t.Fatal(err)
	}
	impatient, cancel := context.WithCancel(ctx)
	first := tokenAsync(impatient, h)
	<-f.calls
	second := tokenAsync(ctx, h)
	cancel()
	if r := <-first; !errors.Is(r.err, context.Canceled) {
		t.Errorf("cancelled waiter: %q, %v; want context.Canceled", r.token, r.err)
	}
	f.answers <- refreshAnswer{s: session("new", t0.Add(time.Hour))}
	if r := <-second; r.err != nil || r.token != "access-new" {
		t.Errorf("patient waiter: %q, %v; want access-new", r.token, r.err)
	}
	select {
	case tok := <-f.calls:
		t.Errorf("a second refresh ran with %q", tok)
	default:
	}
}

// A refresh that fails for a passing reason while the token still works
// returns the token; once it has expired, the error.
func TestRefreshTransientFailure(t *testing.T) {
	ctx := t.Context()
	unavailable := connect.NewError(connect.CodeUnavailable, errors.New("down"))
	for _, tt := range []struct {
		name      string
		expires   time.Time
		wantToken string
	}{
		{"inside the margin", t0.Add(30 * time.Second), "access-old"},
		{"expired", t0.Add(-time.Second), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRefresher()
			h := newTestHolder(f)
			if err := h.set(ctx, session("old", tt.expires)); err != nil {
				t.Fatal(err)
			}
			res := tokenAsync(ctx, h)
			<-f.calls
			f.answers <- refreshAnswer{err: unavailable}
			r := <-res
			if r.token != tt.wantToken || (tt.wantToken == "") != (r.err != nil) {
				t.Errorf("accessToken = %q, %v; want %q", r.token, r.err, tt.wantToken)
			}
			if s, _ := h.current(ctx); s.GetRefreshToken() != "refresh-old" {
				t.Errorf("a passing failure dropped the session: %v", s)
			}
		})
	}
}
