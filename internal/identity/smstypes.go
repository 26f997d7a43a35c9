package identity

import (
	"fmt"
	"log/slog"
	"strings"
)

// SMSAccount is the Twilio account an application sends from. The sender is
// From (an E.164 number) or, when set, MessagingServiceSID.
type SMSAccount struct {
	SID                 string
	AuthToken           string
	From                string
	MessagingServiceSID string
}

// LogValue keeps the auth token out of logs.
func (a SMSAccount) LogValue() slog.Value {
	return slog.GroupValue(slog.String("sid", a.SID), slog.String("from", a.From),
		slog.String("messaging_service_sid", a.MessagingServiceSID))
}

// SMSFailureKind says what a failed send means for the caller.
type SMSFailureKind int

// The kinds of failure.
const (
	// SMSUnavailable: Twilio could not be reached, timed out, throttled (429)
	// or failed (5xx). Trying again later may work.
	SMSUnavailable SMSFailureKind = iota
	// SMSBadCredentials: Twilio refused the account SID or auth token (401,
	// 403, error 20003). The application's settings must change.
	SMSBadCredentials
	// SMSRejected: Twilio refused this message (another 4xx: an invalid or
	// unreachable number, a sender the account does not own, …).
	SMSRejected
)

func (k SMSFailureKind) String() string {
	switch k {
	case SMSBadCredentials:
		return "bad credentials"
	case SMSRejected:
		return "rejected"
	}
	return "unavailable"
}

// SMSError is a failed send, as an SMSSender reports it.
type SMSError struct {
	Kind    SMSFailureKind
	Status  int    // HTTP status; 0 when no answer came
	Code    int    // Twilio error code (https://www.twilio.com/docs/errors); 0 when none
	Message string // Twilio's message, if any
	Err     error  // the cause
}

func (e *SMSError) Error() string {
	var b strings.Builder
	b.WriteString("sms: " + e.Kind.String())
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.Status)
		if e.Code != 0 {
			fmt.Fprintf(&b, ", Twilio error %d", e.Code)
		}
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Err != nil && e.Message == "" {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *SMSError) Unwrap() error { return e.Err }
