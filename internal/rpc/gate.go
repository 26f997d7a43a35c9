package rpc

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// nopLog takes Error's warning for a refusal: shedding is the plan working,
// not a dependency failing, and a log line per refused call would grow the
// log as fast as the flood.
var nopLog = slog.New(slog.DiscardHandler)

// GateRetryAfter is the retry delay a refused call is told to wait.
const GateRetryAfter = time.Second

// Gate bounds how many expensive calls — those that hash a password
// (argon2id holds its memory for the whole computation) or sign a token —
// are in progress at once. A call past the bound is refused at once with
// ResourceExhausted, reason RATE_LIMITED and a retry delay (the server's
// own rate, reached; clients back off as from any rate limit, and nothing
// reads as the server being down), rather than waiting:
// the hasher's own slots make admitted calls take turns, and the gate keeps
// that queue, and the memory of the requests in it, bounded.
//
// The gate decides by procedure before any work, never by what a call
// finds, so a refusal tells nothing about the handle it named. A Gate is
// safe for concurrent use; the zero value is not usable, use NewGate.
type Gate struct {
	slots     chan struct{}
	expensive map[string]bool

	// entered, when set (tests only), runs once a call holds its slot and
	// before its work starts, so a test can hold slots deterministically.
	entered atomic.Pointer[func(ctx context.Context, procedure string)]
}

// NewGate returns a gate admitting at most max (at least 1) of the named
// procedures at once; other procedures pass untouched.
func NewGate(max int, procedures ...string) *Gate {
	if max < 1 {
		max = 1
	}
	g := &Gate{slots: make(chan struct{}, max), expensive: map[string]bool{}}
	for _, p := range procedures {
		g.expensive[p] = true
	}
	return g
}

// SetEnteredHook installs fn to run when a call has taken a slot (nil
// removes it). It exists for tests that fill the gate with blocked work;
// safe to call while serving.
func (g *Gate) SetEnteredHook(fn func(ctx context.Context, procedure string)) {
	if fn == nil {
		g.entered.Store(nil)
		return
	}
	g.entered.Store(&fn)
}

// Enter takes a slot for procedure, or fails with the busy error when none
// is free. release must be called once the work is done.
func (g *Gate) Enter(ctx context.Context, procedure string) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
	default:
		return nil, apperr.New(apperr.RateLimited, apperr.ReasonRateLimited,
			"the server is busy; try again shortly").WithRetryAfter(GateRetryAfter)
	}
	if fn := g.entered.Load(); fn != nil {
		(*fn)(ctx, procedure)
	}
	return func() { <-g.slots }, nil
}

// Interceptor gates the unary calls of the expensive procedures.
func (g *Gate) Interceptor() connect.UnaryInterceptorFunc {
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			if !g.expensive[req.Spec().Procedure] {
				return next(ctx, req)
			}
			release, err := g.Enter(ctx, req.Spec().Procedure)
			if err != nil {
				return nil, Error(ctx, nopLog, err)
			}
			defer release()
			return next(ctx, req)
		}
	}
}

// Handler gates every request to next (the CosyncJWT facade, whose routes
// nearly all hash or sign), answering a refused one 429 with Retry-After.
func (g *Gate) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, err := g.Enter(r.Context(), r.URL.Path)
		if err != nil {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "the server is busy; try again shortly", http.StatusTooManyRequests)
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}
