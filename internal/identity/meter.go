package identity

import "github.com/cosync/cosync-auth/internal/apperr"

// Meter counts what the flows do, for the operator's metrics (package
// metrics implements it over Prometheus). Its methods must be cheap and
// safe for concurrent use; they never fail. Labels come from the constants
// below, so their number stays bounded.
type Meter interface {
	// Login counts one sign-in attempt by method (MethodPassword, …) and
	// outcome (OutcomeSuccess, OutcomeChallenge, …).
	Login(method, outcome string)
	// Signup counts a signup reaching a stage (SignupStarted, SignupCompleted).
	Signup(stage string)
	// Send counts one delivery attempt of the send queue by channel
	// (ChannelEmail, ChannelSMS) and outcome (SendSent, SendRetry, SendDead).
	Send(channel, outcome string)
}

// Sign-in methods, as Meter.Login counts them.
const (
	MethodPassword     = "password"
	MethodSecondFactor = "second_factor"
	MethodSocial       = "social"
	MethodAnonymous    = "anonymous"
)

// Outcomes of a sign-in attempt beyond OutcomeSuccess and OutcomeFailure
// (a wrong password or code, a suspended account).
const (
	OutcomeChallenge   = "challenge"    // the password was right; a second factor is asked
	OutcomeLocked      = "locked"       // ACCOUNT_LOCKED
	OutcomeRateLimited = "rate_limited" // a rate limit refused the attempt
	OutcomeError       = "error"        // anything else: bad input, a missing app, an outage
)

// Signup stages.
const (
	SignupStarted   = "started"   // a signup was accepted (a code or link mailed, or an account made at once)
	SignupCompleted = "completed" // an account was made (code, link, the none flow or an invitation)
)

// Outcomes of one send attempt.
const (
	SendSent  = "sent"
	SendRetry = "retry"
	SendDead  = "dead"
)

// NopMeter counts nothing; it is what a Service without Deps.Meter uses.
type NopMeter struct{}

// Login counts nothing.
func (NopMeter) Login(string, string) {}

// Signup counts nothing.
func (NopMeter) Signup(string) {}

// Send counts nothing.
func (NopMeter) Send(string, string) {}

// loginOutcome names how a sign-in attempt ended; challenged is true when
// it ended asking for a second factor.
func loginOutcome(challenged bool, err error) string {
	switch {
	case err == nil && challenged:
		return OutcomeChallenge
	case err == nil:
		return OutcomeSuccess
	case apperr.ReasonOf(err) == apperr.ReasonAccountLocked:
		return OutcomeLocked
	case apperr.Is(err, apperr.RateLimited):
		return OutcomeRateLimited
	case apperr.Is(err, apperr.Unauthenticated), apperr.Is(err, apperr.Permission):
		return OutcomeFailure
	}
	return OutcomeError
}

// countLogin is deferred by each sign-in flow with its named results.
func (s *Service) countLogin(method string, challenged bool, err error) {
	s.meter.Login(method, loginOutcome(challenged, err))
}
