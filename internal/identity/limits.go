package identity

import (
	"context"
	"time"
)

// LimitRule is one limit: at most Limit events per Window for each key.
type LimitRule struct {
	Name   string // e.g. "login:ip"; part of the stored key
	Limit  int
	Window time.Duration
}

// Limiter counts attempts in windows shared by every replica
// (ratelimit.Limiter). Allow returns a RateLimited error past the limit.
type Limiter interface {
	Allow(ctx context.Context, rule LimitRule, key string) error
}

// The rate limits, per client IP and per target (handle, phone, app). They
// sit above what a person or a busy office behind one NAT does, and below
// what guessing needs. docs/security.md lists them.
var (
	LimitLoginIP      = LimitRule{Name: "login:ip", Limit: 60, Window: 10 * time.Minute}
	LimitLoginHandle  = LimitRule{Name: "login:handle", Limit: 20, Window: 10 * time.Minute}
	LimitSignupIP     = LimitRule{Name: "signup:ip", Limit: 30, Window: time.Hour}
	LimitSignupHandle = LimitRule{Name: "signup:handle", Limit: 5, Window: time.Hour}
	LimitResetIP      = LimitRule{Name: "reset:ip", Limit: 20, Window: time.Hour}
	LimitResetHandle  = LimitRule{Name: "reset:handle", Limit: 5, Window: time.Hour}
	LimitInviteIP     = LimitRule{Name: "invite:ip", Limit: 100, Window: time.Hour}
	LimitInviteUser   = LimitRule{Name: "invite:user", Limit: 50, Window: time.Hour}
	LimitCodeIP       = LimitRule{Name: "code:ip", Limit: 60, Window: 10 * time.Minute}
	LimitCodeHandle   = LimitRule{Name: "code:handle", Limit: 30, Window: 10 * time.Minute}
	// Texts cost the developer money, so they have their own caps (the
	// defaults of Config.SMSLimits): per number, per client IP, per app.
	LimitSMSNumber = LimitRule{Name: "sms:number", Limit: 5, Window: time.Hour}
	LimitSMSIP     = LimitRule{Name: "sms:ip", Limit: 20, Window: time.Hour}
	LimitSMSApp    = LimitRule{Name: "sms:app", Limit: 500, Window: time.Hour}
)

// LimitSocialIP caps ID-token sign-ins and links from one client IP, as
// LimitLoginIP does passwords.
var LimitSocialIP = LimitRule{Name: "social:ip", Limit: 60, Window: 10 * time.Minute}

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
	rule LimitRule
	key  string
}

func byKey(rule LimitRule, key string) limitCheck { return limitCheck{rule, key} }
