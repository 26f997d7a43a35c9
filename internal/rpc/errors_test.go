package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/rpc"
)

// logBuffer is an io.Writer safe for the logger's concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// convert runs rpc.Error with a logger whose output it returns.
func convert(tb testing.TB, err error) (*connect.Error, string) {
	tb.Helper()
	var buf logBuffer
	out := rpc.Error(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), err)
	if out == nil {
		tb.Fatalf("Error(%v) = nil, want a Connect error", err)
	}
	var ce *connect.Error
	if !errors.As(out, &ce) {
		tb.Fatalf("Error(%v) = %T, want *connect.Error", err, out)
	}
	return ce, buf.String()
}

// detail returns the first detail of ce of type T, or nil.
func detail[T proto.Message](tb testing.TB, ce *connect.Error) T {
	tb.Helper()
	var zero T
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			tb.Fatalf("detail %s: %v", d.Type(), err)
		}
		if m, ok := v.(T); ok {
			return m
		}
	}
	return zero
}

func TestErrorCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind apperr.Kind
		want connect.Code
	}{
		{apperr.Internal, connect.CodeInternal},
		{apperr.Invalid, connect.CodeInvalidArgument},
		{apperr.NotFound, connect.CodeNotFound},
		{apperr.Exists, connect.CodeAlreadyExists},
		{apperr.Permission, connect.CodePermissionDenied},
		{apperr.Unauthenticated, connect.CodeUnauthenticated},
		{apperr.RateLimited, connect.CodeResourceExhausted},
		{apperr.Precondition, connect.CodeFailedPrecondition},
		{apperr.Unavailable, connect.CodeUnavailable},
		{apperr.Unimplemented, connect.CodeUnimplemented},
	}
	for _, tc := range tests {
		t.Run(tc.kind.String(), func(t *testing.T) {
			t.Parallel()
			in := apperr.New(tc.kind, "TOO_MANY_ATTEMPTS", "safe message")
			ce, _ := convert(t, in)
			if ce.Code() != tc.want {
				t.Errorf("Error(%v).Code() = %v, want %v", in, ce.Code(), tc.want)
			}
			info := detail[*errdetails.ErrorInfo](t, ce)
			if info == nil {
				t.Fatalf("Error(%v) has no ErrorInfo", in)
			}
			if info.GetDomain() != "cosync.auth" {
				t.Errorf("Error(%v) ErrorInfo.Domain = %q, want %q", in, info.GetDomain(), "cosync.auth")
			}
			wantReason := "TOO_MANY_ATTEMPTS"
			if tc.kind == apperr.Internal {
				wantReason = "INTERNAL"
			}
			if info.GetReason() != wantReason {
				t.Errorf("Error(%v) ErrorInfo.Reason = %q, want %q", in, info.GetReason(), wantReason)
			}
		})
	}
}

// Each kind without an explicit reason gets a default one, and every
// default is in the contract's ErrorReason enum.
func TestErrorDefaultReasons(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind apperr.Kind
		want string
	}{
		{apperr.Internal, "INTERNAL"},
		{apperr.Invalid, "INVALID_ARGUMENT"},
		{apperr.NotFound, "NOT_FOUND"},
		{apperr.Exists, "ALREADY_EXISTS"},
		{apperr.Permission, "PERMISSION_DENIED"},
		{apperr.Unauthenticated, "TOKEN_INVALID"},
		{apperr.RateLimited, "RATE_LIMITED"},
		{apperr.Unimplemented, "NOT_IMPLEMENTED"},
	}
	for _, tc := range tests {
		t.Run(tc.kind.String(), func(t *testing.T) {
			t.Parallel()
			in := apperr.New(tc.kind, "", "m")
			ce, _ := convert(t, in)
			info := detail[*errdetails.ErrorInfo](t, ce)
			if got := info.GetReason(); got != tc.want {
				t.Errorf("Error(%v) ErrorInfo.Reason = %q, want %q", in, got, tc.want)
			}
			if _, ok := authv1.ErrorReason_value["ERROR_REASON_"+info.GetReason()]; !ok {
				t.Errorf("Error(%v) reason %q is not a cosync.auth.v1.ErrorReason", in, info.GetReason())
			}
		})
	}
}

func TestErrorReasonFromChain(t *testing.T) {
	t.Parallel()
	inner := apperr.New(apperr.Unauthenticated, "REFRESH_TOKEN_REUSED", "refresh token reused")
	in := fmt.Errorf("refresh: %w", apperr.Wrap(inner, apperr.Unauthenticated, "identity.Refresh"))
	ce, _ := convert(t, in)
	if ce.Code() != connect.CodeUnauthenticated {
		t.Errorf("Error(%v).Code() = %v, want %v", in, ce.Code(), connect.CodeUnauthenticated)
	}
	if got := detail[*errdetails.ErrorInfo](t, ce).GetReason(); got != "REFRESH_TOKEN_REUSED" {
		t.Errorf("Error(%v) reason = %q, want %q", in, got, "REFRESH_TOKEN_REUSED")
	}
}

func TestErrorFieldViolations(t *testing.T) {
	t.Parallel()
	in := apperr.Fields("METADATA_INVALID", []apperr.Violation{
		{Field: "metadata.user_data.age", Description: "must be a number"},
		{Field: "password", Description: "too short"},
	})
	ce, _ := convert(t, in)
	if ce.Code() != connect.CodeInvalidArgument {
		t.Errorf("Error(%v).Code() = %v, want %v", in, ce.Code(), connect.CodeInvalidArgument)
	}
	if got := detail[*errdetails.ErrorInfo](t, ce).GetReason(); got != "METADATA_INVALID" {
		t.Errorf("Error(%v) reason = %q, want %q", in, got, "METADATA_INVALID")
	}
	br := detail[*errdetails.BadRequest](t, ce)
	if br == nil {
		t.Fatalf("Error(%v) has no BadRequest", in)
	}
	var got []string
	for _, v := range br.GetFieldViolations() {
		got = append(got, v.GetField())
		if v.GetDescription() == "" {
			t.Errorf("Error(%v) violation %q has no description", in, v.GetField())
		}
	}
	if want := []string{"metadata.user_data.age", "password"}; !slices.Equal(got, want) {
		t.Errorf("Error(%v) violations = %q, want %q", in, got, want)
	}
}

func TestErrorWithoutViolationsHasNoBadRequest(t *testing.T) {
	t.Parallel()
	in := apperr.New(apperr.NotFound, "APP_NOT_FOUND", "no application with that id")
	ce, _ := convert(t, in)
	if br := detail[*errdetails.BadRequest](t, ce); br != nil {
		t.Errorf("Error(%v) has BadRequest %v, want none", in, br)
	}
	if ri := detail[*errdetails.RetryInfo](t, ce); ri != nil {
		t.Errorf("Error(%v) has RetryInfo %v, want none", in, ri)
	}
	if got := ce.Meta().Get("Retry-After"); got != "" {
		t.Errorf("Error(%v) Retry-After = %q, want none", in, got)
	}
}

func TestErrorRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		after time.Duration
		want  string // seconds in Retry-After and ErrorInfo metadata
	}{
		{"whole seconds", 30 * time.Second, "30"},
		{"minutes", 4 * time.Minute, "240"},
		{"rounded", 1500 * time.Millisecond, "2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := apperr.New(apperr.RateLimited, apperr.ReasonAccountLocked, "locked").WithRetryAfter(tc.after)
			ce, _ := convert(t, in)
			if ce.Code() != connect.CodeResourceExhausted {
				t.Errorf("Error(%v).Code() = %v, want %v", in, ce.Code(), connect.CodeResourceExhausted)
			}
			if got := ce.Meta().Get("Retry-After"); got != tc.want {
				t.Errorf("Error(%v) Retry-After = %q, want %q", in, got, tc.want)
			}
			info := detail[*errdetails.ErrorInfo](t, ce)
			if got := info.GetMetadata()["retry_after_seconds"]; got != tc.want {
				t.Errorf("Error(%v) ErrorInfo retry_after_seconds = %q, want %q", in, got, tc.want)
			}
			ri := detail[*errdetails.RetryInfo](t, ce)
			if ri == nil {
				t.Fatalf("Error(%v) has no RetryInfo", in)
			}
			if got := ri.GetRetryDelay().AsDuration(); got != tc.after {
				t.Errorf("Error(%v) RetryInfo.RetryDelay = %v, want %v", in, got, tc.after)
			}
		})
	}
}

// Internal errors reach the client as a bare "internal error"; the cause
// goes to the log only.
func TestErrorInternalHidesCause(t *testing.T) {
	t.Parallel()
	const cause = "pq: password authentication failed for user secret_admin"
	tests := []struct {
		name string
		err  error
	}{
		{"plain error", errors.New(cause)},
		{"wrapped plain error", fmt.Errorf("store.GetUser: %w", errors.New(cause))},
		{"internal kind", apperr.Wrap(errors.New(cause), apperr.Internal, "store.GetUser")},
		{"internal kind with message", apperr.New(apperr.Internal, "", cause).With("", errors.New(cause))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ce, logged := convert(t, tc.err)
			if ce.Code() != connect.CodeInternal {
				t.Errorf("Error(%v).Code() = %v, want %v", tc.err, ce.Code(), connect.CodeInternal)
			}
			if ce.Message() != "internal error" {
				t.Errorf("Error(%v).Message() = %q, want %q", tc.err, ce.Message(), "internal error")
			}
			if strings.Contains(ce.Error(), "secret_admin") {
				t.Errorf("Error(%v) = %q, leaks the cause", tc.err, ce.Error())
			}
			for _, d := range ce.Details() {
				v, _ := d.Value()
				if strings.Contains(fmt.Sprint(v), "secret_admin") {
					t.Errorf("Error(%v) detail %v leaks the cause", tc.err, v)
				}
			}
			if got := detail[*errdetails.ErrorInfo](t, ce).GetReason(); got != "INTERNAL" {
				t.Errorf("Error(%v) reason = %q, want INTERNAL", tc.err, got)
			}
			if !strings.Contains(logged, "secret_admin") {
				t.Errorf("Error(%v) logged %q, want the cause in the log", tc.err, logged)
			}
		})
	}
}

// Non-internal errors show their message, never their cause.
func TestErrorHidesCauseOfDomainError(t *testing.T) {
	t.Parallel()
	in := apperr.New(apperr.NotFound, "APP_NOT_FOUND", "no application with that id").
		With("identity.app", errors.New("sql: no rows in result set (table secret_apps)"))
	ce, _ := convert(t, in)
	if ce.Message() != "no application with that id" {
		t.Errorf("Error(%v).Message() = %q, want %q", in, ce.Message(), "no application with that id")
	}
	if strings.Contains(ce.Error(), "secret_apps") {
		t.Errorf("Error(%v) = %q, leaks the cause", in, ce.Error())
	}
}

func TestErrorPassThrough(t *testing.T) {
	t.Parallel()
	if got := rpc.Error(context.Background(), slog.New(slog.DiscardHandler), nil); got != nil {
		t.Errorf("Error(nil) = %v, want nil", got)
	}
	orig := connect.NewError(connect.CodeAborted, errors.New("aborted"))
	if got := rpc.Error(context.Background(), slog.New(slog.DiscardHandler), fmt.Errorf("wrapped: %w", orig)); got != orig { //nolint:errorlint // identity is the point: the Connect error itself passes through
		t.Errorf("Error(wrapped Connect error) = %v, want the Connect error %v", got, orig)
	}

	tests := []struct {
		name string
		err  error
		want connect.Code
	}{
		{"canceled", context.Canceled, connect.CodeCanceled},
		{"wrapped canceled", fmt.Errorf("store: %w", context.Canceled), connect.CodeCanceled},
		{"domain error caused by cancel", apperr.Wrap(context.Canceled, apperr.Unavailable, "store.GetApp"), connect.CodeCanceled},
		{"deadline", context.DeadlineExceeded, connect.CodeDeadlineExceeded},
		{"wrapped deadline", fmt.Errorf("store: %w", context.DeadlineExceeded), connect.CodeDeadlineExceeded},
		{"internal error caused by deadline", apperr.Wrap(context.DeadlineExceeded, apperr.Internal, "store.GetApp"), connect.CodeDeadlineExceeded},
		// A hung Vault: its per-call timeout fired while the request still had time.
		{"unavailable dependency timed out", apperr.Wrap(fmt.Errorf("vault: write transit/sign: %w", context.DeadlineExceeded), apperr.Unavailable, "keys.Sign"), connect.CodeUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ce, _ := convert(t, tc.err)
			if ce.Code() != tc.want {
				t.Errorf("Error(%v).Code() = %v, want %v", tc.err, ce.Code(), tc.want)
			}
		})
	}
}

// TestErrorClientDeadline: when the request's own context ran out, the
// answer is deadline_exceeded even for an error a dependency typed
// Unavailable, and a typed Unavailable error keeps its reason otherwise.
func TestErrorClientDeadline(t *testing.T) {
	t.Parallel()
	err := apperr.New(apperr.Unavailable, apperr.ReasonSignerUnavailable, "token signing is unavailable; try again").
		With("identity.login", fmt.Errorf("vault: %w", context.DeadlineExceeded))
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	<-ctx.Done()
	got := rpc.Error(ctx, slog.New(slog.DiscardHandler), err)
	if code := connect.CodeOf(got); code != connect.CodeDeadlineExceeded {
		t.Errorf("Error(expired ctx, %v) code = %v, want %v", err, code, connect.CodeDeadlineExceeded)
	}
	ce, _ := convert(t, err)
	if ce.Code() != connect.CodeUnavailable {
		t.Fatalf("Error(live ctx, %v) code = %v, want %v", err, ce.Code(), connect.CodeUnavailable)
	}
	if info := detail[*errdetails.ErrorInfo](t, ce); info == nil || info.Reason != string(apperr.ReasonSignerUnavailable) {
		t.Errorf("Error(live ctx, %v) ErrorInfo = %v, want reason %s", err, info, apperr.ReasonSignerUnavailable)
	}
}

// TestErrorClientCanceled: a request its client canceled answers Canceled
// even when the driver reported the cut-off query as a lost connection
// (pgdriver's i/o timeout), and nothing is logged as a failing dependency.
func TestErrorClientCanceled(t *testing.T) {
	t.Parallel()
	err := apperr.Wrap(&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, apperr.Unavailable, "store.GetUser")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var logged bytes.Buffer
	got := rpc.Error(ctx, slog.New(slog.NewTextHandler(&logged, nil)), err)
	if code := connect.CodeOf(got); code != connect.CodeCanceled {
		t.Errorf("Error(canceled ctx, %v) code = %v, want %v", err, code, connect.CodeCanceled)
	}
	if logged.Len() != 0 {
		t.Errorf("Error(canceled ctx) logged %q, want nothing", logged.String())
	}
	if code := connect.CodeOf(rpc.Error(context.Background(), slog.New(slog.DiscardHandler), err)); code != connect.CodeUnavailable {
		t.Errorf("Error(live ctx, %v) code = %v, want %v", err, code, connect.CodeUnavailable)
	}
	// The request's own deadline (Connect-Timeout-Ms) cut the query off.
	expired, stop := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer stop()
	<-expired.Done()
	if code := connect.CodeOf(rpc.Error(expired, slog.New(slog.DiscardHandler), err)); code != connect.CodeDeadlineExceeded {
		t.Errorf("Error(expired ctx, %v) code = %v, want %v", err, code, connect.CodeDeadlineExceeded)
	}
}

func TestEnum(t *testing.T) {
	t.Parallel()
	e := rpc.NewEnum(map[string]int{"a": 1, "b": 2})
	if e.Proto("a") != 1 || e.Proto("zzz") != 0 {
		t.Errorf("Proto(a), Proto(zzz) = %d, %d; want 1, 0", e.Proto("a"), e.Proto("zzz"))
	}
	if d, ok := e.Domain(2); d != "b" || !ok {
		t.Errorf("Domain(2) = %q, %v; want b, true", d, ok)
	}
	if d, ok := e.Domain(0); d != "" || ok {
		t.Errorf("Domain(0) = %q, %v; want \"\", false", d, ok)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewEnum of a table that is not one-to-one did not panic")
		}
	}()
	rpc.NewEnum(map[string]int{"a": 1, "b": 1})
}
