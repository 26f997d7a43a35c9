// Package rpc is the Connect edge shared by the Auth and Admin handlers:
// domain errors to Connect errors (with a machine reason and field
// violations), the request context (caller, principal, client IP), the
// interceptors that fill it, and proto conversions of shared types.
package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// ErrorDomain is the ErrorInfo domain of every CoSync Auth error.
const ErrorDomain = "cosync.auth"

var codes = map[apperr.Kind]connect.Code{
	apperr.Internal:        connect.CodeInternal,
	apperr.Invalid:         connect.CodeInvalidArgument,
	apperr.NotFound:        connect.CodeNotFound,
	apperr.Exists:          connect.CodeAlreadyExists,
	apperr.Permission:      connect.CodePermissionDenied,
	apperr.Unauthenticated: connect.CodeUnauthenticated,
	apperr.RateLimited:     connect.CodeResourceExhausted,
	apperr.Precondition:    connect.CodeFailedPrecondition,
	apperr.Unavailable:     connect.CodeUnavailable,
	apperr.Unimplemented:   connect.CodeUnimplemented,
}

// Error converts a domain error into a Connect error: the kind picks the
// code, the reason becomes an ErrorInfo, violations a BadRequest, a retry
// delay a RetryInfo. Internal errors are logged with their cause and reach
// the client as a bare "internal error". nil stays nil; Connect errors pass
// through; a cancellation (of the error's cause or of the request's own
// context) answers Canceled. A deadline answers
// DeadlineExceeded when the request's context ran out or the error has no
// domain kind; a typed error that merely wraps a dependency's timeout keeps
// its kind (Unavailable for a hung Vault).
func Error(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce
	}
	// A client that went away is not a failing dependency, whatever the
	// driver made of it: pgdriver cuts a canceled query short with a
	// deadline on its socket, which reads as an i/o timeout.
	if errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled) {
		return connect.NewError(connect.CodeCanceled, errors.New("request canceled"))
	}
	var e *apperr.Error
	isDomain := errors.As(err, &e) && e.Kind() != apperr.Internal
	// A deadline is the client's only when the request's own context ran
	// out, and then it is the answer whatever the dependency made of it
	// (pgdriver reports a query cut off by that deadline as an i/o timeout). A dependency's timeout (a hung Vault: the client's per-call
	// timeout fired) arrives wrapped in the kind its adapter chose, which
	// says what the caller can do (Unavailable: retry), so the kind wins.
	if (errors.Is(err, context.DeadlineExceeded) && !isDomain) || expired(ctx) {
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New("deadline exceeded"))
	}
	if !isDomain {
		log.ErrorContext(ctx, "internal error", "err", err)
		out := connect.NewError(connect.CodeInternal, errors.New("internal error"))
		addDetail(out, &errdetails.ErrorInfo{Reason: string(apperr.ReasonInternal), Domain: ErrorDomain})
		return out
	}
	if e.Kind() == apperr.Unavailable {
		log.WarnContext(ctx, "dependency unavailable", "err", err)
	}
	msg := e.Message()
	if msg == "" {
		msg = e.Kind().String()
	}
	vs := e.Violations()
	if len(vs) > maxViolations {
		msg = fmt.Sprintf("%d fields are invalid; the details list the first %d", len(vs), maxViolations)
		vs = vs[:maxViolations]
	}
	out := connect.NewError(codes[e.Kind()], errors.New(msg))
	reason := apperr.ReasonOf(err)
	if reason == "" {
		reason = defaultReason(e.Kind())
	}
	info := &errdetails.ErrorInfo{Reason: string(reason), Domain: ErrorDomain}
	if d := e.RetryAfter(); d > 0 {
		info.Metadata = map[string]string{"retry_after_seconds": strconv.Itoa(int(math.Ceil(d.Seconds())))}
		out.Meta().Set("Retry-After", info.Metadata["retry_after_seconds"])
	}
	addDetail(out, info)
	if len(vs) > 0 {
		br := &errdetails.BadRequest{}
		for _, v := range vs {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		addDetail(out, br)
	}
	if d := e.RetryAfter(); d > 0 {
		addDetail(out, &errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
	}
	return out
}

// defaultReason is the reason of an error that names none: the contract's
// generic reason for its kind.
func defaultReason(k apperr.Kind) apperr.Reason {
	switch k {
	case apperr.Invalid:
		return apperr.ReasonInvalidArgument
	case apperr.NotFound:
		return apperr.ReasonNotFound
	case apperr.Exists:
		return apperr.ReasonAlreadyExists
	case apperr.Permission:
		return apperr.ReasonPermissionDenied
	case apperr.RateLimited:
		return apperr.ReasonRateLimited
	case apperr.Unimplemented:
		return apperr.ReasonNotImplemented
	case apperr.Unauthenticated:
		return apperr.ReasonTokenInvalid
	case apperr.Precondition:
		return apperr.ReasonFailedPrecondition
	case apperr.Unavailable:
		return apperr.ReasonUnavailable
	}
	return apperr.ReasonInternal
}

func addDetail(e *connect.Error, m proto.Message) {
	if d, err := connect.NewErrorDetail(m); err == nil {
		e.AddDetail(d)
	}
}

// expired reports whether ctx's deadline has passed. ctx.Err() says so only
// once the context's timer has run, a moment after a socket deadline set
// from the same time has already cut a query off.
func expired(ctx context.Context) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}
