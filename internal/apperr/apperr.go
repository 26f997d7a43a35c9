// Package apperr is the error type every CoSync Auth layer speaks: a kind
// (what went wrong, in terms a transport can map to a status), a stable
// machine reason for clients, the operation, field violations for bad input,
// and the wrapped cause for the log. Only the kind, reason, message and field
// violations ever reach a client; the cause never does.
//
// An Error is built by the constructors (New, Wrap, Field, Fields) and the
// With… methods, each of which returns a new value, and read through its
// accessors, as connect-go's *connect.Error is; nothing changes an Error after
// it is made, so one may be shared between goroutines.
package apperr

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind classifies an error. The transport maps each kind to one status code.
type Kind uint8

// The kinds, in the order connect-go's codes would list them.
const (
	Internal        Kind = iota // unexpected; the cause is logged, the client sees a generic message
	Invalid                     // bad input (InvalidArgument)
	NotFound                    // the thing named does not exist for this caller
	Exists                      // a unique thing already exists
	Permission                  // authenticated but not allowed
	Unauthenticated             // no, bad or expired credentials
	RateLimited                 // too many attempts (ResourceExhausted)
	Precondition                // the state does not allow it (FailedPrecondition)
	Unavailable                 // a dependency is down; retry later
	Unimplemented               // planned, not built yet
)

var kindNames = [...]string{"internal", "invalid", "not found", "exists", "permission", "unauthenticated", "rate limited", "precondition", "unavailable", "unimplemented"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Violation names one bad input field and why it is bad.
type Violation struct {
	Field       string // proto field path, e.g. "password" or "metadata.user_data.age"
	Description string
}

// Error is the error type of the domain. The zero value is an internal error
// with no reason. Errors are immutable: the With… methods return copies.
type Error struct {
	kind       Kind
	reason     Reason        // stable machine reason, e.g. ReasonInvalidCode
	op         string        // the operation, e.g. "identity.Login"
	message    string        // safe for clients; short
	violations []Violation   // for Invalid: which fields
	retryAfter time.Duration // for RateLimited: when to try again (zero: unknown)
	err        error         // the cause; logged, never shown
}

// New returns an error of kind with a reason and a client-safe message.
func New(kind Kind, reason Reason, message string) *Error {
	return &Error{kind: kind, reason: reason, message: message}
}

// Wrap returns an error of kind whose cause is err. A nil err gives nil.
func Wrap(err error, kind Kind, op string) error {
	if err == nil {
		return nil
	}
	return &Error{kind: kind, op: op, err: err}
}

// Field returns an Invalid error naming one field.
func Field(field, description string) *Error {
	return &Error{
		kind:       Invalid,
		reason:     ReasonInvalidArgument,
		message:    field + ": " + description,
		violations: []Violation{{Field: field, Description: description}},
	}
}

// Fields returns an Invalid error with a reason naming several fields.
// It returns nil (an untyped nil error) when vs is empty, so callers can
// collect then return.
func Fields(reason Reason, vs []Violation) error {
	if len(vs) == 0 {
		return nil
	}
	return &Error{kind: Invalid, reason: reason, message: joinViolations(vs), violations: slices.Clone(vs)}
}

func joinViolations(vs []Violation) string {
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.Field + ": " + v.Description
	}
	return strings.Join(msgs, "; ")
}

// With returns a copy of e whose Op is op and whose cause is err.
func (e *Error) With(op string, err error) *Error {
	c := *e
	c.op, c.err = op, err
	return &c
}

// WithRetryAfter returns a copy of e that tells the client to try again after d.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := *e
	c.retryAfter = d
	return &c
}

// WithViolations returns a copy of e whose field violations are vs; the
// message is kept.
func (e *Error) WithViolations(vs ...Violation) *Error {
	c := *e
	c.violations = slices.Clone(vs)
	return &c
}

// WithReason returns a copy of e whose reason is r.
func (e *Error) WithReason(r Reason) *Error {
	c := *e
	c.reason = r
	return &c
}

// Kind is what went wrong, for the transport to pick a status.
func (e *Error) Kind() Kind { return e.kind }

// Reason is the machine reason e itself carries; it may be empty (see ReasonOf).
func (e *Error) Reason() Reason { return e.reason }

// Op is the operation that failed, for the log.
func (e *Error) Op() string { return e.op }

// Message is the short, client-safe message; it may be empty.
func (e *Error) Message() string { return e.message }

// Violations returns a copy of the bad input fields, nil when there are none.
func (e *Error) Violations() []Violation { return slices.Clone(e.violations) }

// RetryAfter is when a rate-limited client may try again (zero: unknown).
func (e *Error) RetryAfter() time.Duration { return e.retryAfter }

func (e *Error) Error() string {
	var b strings.Builder
	if e.op != "" {
		b.WriteString(e.op)
		b.WriteString(": ")
	}
	b.WriteString(e.kind.String())
	if e.reason != "" {
		b.WriteString(" [" + string(e.reason) + "]")
	}
	if e.message != "" {
		b.WriteString(": " + e.message)
	}
	if e.err != nil {
		b.WriteString(": " + e.err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.err }

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.kind
	}
	return Internal
}

// ReasonOf returns the reason of the first *Error in err's chain that has one.
func ReasonOf(err error) Reason {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.reason != "" {
			return e.reason
		}
		err = e.err
	}
	return ""
}

// Is reports whether err is an *Error of kind.
func Is(err error, kind Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.kind == kind
}
