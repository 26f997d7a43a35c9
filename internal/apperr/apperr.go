// Package apperr is the error type every CoSync Auth layer speaks: a kind
// (what went wrong, in terms a transport can map to a status), a stable
// machine reason for clients, the operation, field violations for bad input,
// and the wrapped cause for the log. Only the kind, reason, message and field
// violations ever reach a client; the cause never does.
package apperr

import (
	"errors"
	"fmt"
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

// Error is the error type of the domain. The zero value is an internal error.
type Error struct {
	Kind       Kind
	Reason     string        // stable machine reason, e.g. "INVALID_CODE"; see proto ErrorReason
	Op         string        // the operation, e.g. "identity.Login"
	Message    string        // safe for clients; short
	Violations []Violation   // for Invalid: which fields
	RetryAfter time.Duration // for RateLimited: when to try again (zero: unknown)
	Err        error         // the cause; logged, never shown
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	if e.Reason != "" {
		b.WriteString(" [" + e.Reason + "]")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of kind with a reason and a client-safe message.
func New(kind Kind, reason, message string) *Error {
	return &Error{Kind: kind, Reason: reason, Message: message}
}

// Wrap returns an error of kind whose cause is err. A nil err gives nil.
func Wrap(err error, kind Kind, op string) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Op: op, Err: err}
}

// Field returns an Invalid error naming one field.
func Field(field, description string) *Error {
	return &Error{
		Kind:       Invalid,
		Reason:     "INVALID_ARGUMENT",
		Message:    field + ": " + description,
		Violations: []Violation{{Field: field, Description: description}},
	}
}

// Fields returns an Invalid error with a reason naming several fields.
// It returns nil when vs is empty, so callers can collect then return.
func Fields(reason string, vs []Violation) error {
	if len(vs) == 0 {
		return nil
	}
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.Field + ": " + v.Description
	}
	return &Error{Kind: Invalid, Reason: reason, Message: strings.Join(msgs, "; "), Violations: vs}
}

// With returns a copy of e whose Op is op and whose cause is err.
func (e *Error) With(op string, err error) *Error {
	c := *e
	c.Op, c.Err = op, err
	return &c
}

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// ReasonOf returns the reason of the first *Error in err's chain that has one.
func ReasonOf(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Reason != "" {
			return e.Reason
		}
		err = e.Err
	}
	return ""
}

// Is reports whether err is an *Error of kind.
func Is(err error, kind Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}
