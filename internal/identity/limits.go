package identity

import (
	"context"
	"time"

	"github.com/cosync/cosync-auth/internal/ratelimit"
)

// Limiter counts attempts in windows shared by every replica.
type Limiter interface {
	Allow(ctx context.Context, rule ratelimit.Rule, key string) error
}

// The rate limits, per client IP and per target (handle, phone, app). They
// sit above what a person or a busy office behind one NAT does, and below
// what guessing needs. The README lists them.
var (
	LimitLoginIP      = ratelimit.Rule{Name: "login:ip", Limit: 60, Window: 10 * time.Minute}
	LimitLoginHandle  = ratelimit.Rule{Name: "login:handle", Limit: 20, Window: 10 * time.Minute}
	LimitSignupIP     = ratelimit.Rule{Name: "signup:ip", Limit: 30, Window: time.Hour}
	LimitSignupHandle = ratelimit.Rule{Name: "signup:handle", Limit: 5, Window: time.Hour}
	LimitResetIP      = ratelimit.Rule{Name: "reset:ip", Limit: 20, Window: time.Hour}
	LimitResetHandle  = ratelimit.Rule{Name: "reset:handle", Limit: 5, Window: time.Hour}
	LimitInviteIP     = ratelimit.Rule{Name: "invite:ip", Limit: 100, Window: time.Hour}
	LimitInviteUser   = ratelimit.Rule{Name: "invite:user", Limit: 50, Window: time.Hour}
	LimitCodeIP       = ratelimit.Rule{Name: "code:ip", Limit: 60, Window: 10 * time.Minute}
	LimitCodeHandle   = ratelimit.Rule{Name: "code:handle", Limit: 30, Window: 10 * time.Minute}
	// Texts cost the developer money, so they have their own caps (the
	// defaults of Config.SMSLimits): per number, per client IP, per app.
	LimitSMSNumber = ratelimit.Rule{Name: "sms:number", Limit: 5, Window: time.Hour}
	LimitSMSIP     = ratelimit.Rule{Name: "sms:ip", Limit: 20, Window: time.Hour}
	LimitSMSApp    = ratelimit.Rule{Name: "sms:app", Limit: 500, Window: time.Hour}
)

// LimitSocialIP caps ID-token sign-ins and links from one client IP, as
// LimitLoginIP does passwords.
var LimitSocialIP = ratelimit.Rule{Name: "social:ip", Limit: 60, Window: 10 * time.Minute}

// limit applies each rule to its key (app-scoped) and returns the first
// refusal. A nil Limiter (some unit tests) limits nothing.
func (s *Service) limit(ctx context.Context, appID string, checks ...limitCheck) error {
	if s.limiter == nil {
		return nil
	}
	for _, c := range checks {
		if c.key == "" {
			continue
		}
		if err := s.limiter.Allow(ctx, c.rule, appID+":"+c.key); err != nil {
			return err
		}
	}
	return nil
}

type limitCheck struct {
	rule ratelimit.Rule
	key  string
}

func byKey(rule ratelimit.Rule, key string) limitCheck { return limitCheck{rule, key} }
