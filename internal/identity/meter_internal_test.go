package identity

import (
	"errors"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
)

func TestLoginOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		challenged bool
		err        error
		want       string
	}{
		{"signed in", false, nil, OutcomeSuccess},
		{"second factor asked", true, nil, OutcomeChallenge},
		{"wrong password", false, apperr.New(apperr.Unauthenticated, apperr.ReasonInvalidCredentials, "x"), OutcomeFailure},
		{"suspended", false, apperr.New(apperr.Permission, apperr.ReasonAccountSuspended, "x"), OutcomeFailure},
		{"locked", false, apperr.New(apperr.RateLimited, apperr.ReasonAccountLocked, "x").WithRetryAfter(time.Minute), OutcomeLocked},
		{"rate limited", false, apperr.New(apperr.RateLimited, apperr.ReasonRateLimited, "x"), OutcomeRateLimited},
		{"unknown app", false, apperr.New(apperr.NotFound, apperr.ReasonAppNotFound, "x"), OutcomeError},
		{"outage", false, errors.New("database down"), OutcomeError},
	}
	for _, tt := range tests {
		if got := loginOutcome(tt.challenged, tt.err); got != tt.want {
			t.Errorf("%s: loginOutcome(%v, %v) = %q, want %q", tt.name, tt.challenged, tt.err, got, tt.want)
		}
	}
}
