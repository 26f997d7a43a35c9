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
// (ratelimit.Limiter). Allow counts one event, refused or not, and returns
// a RateLimited error past the limit. Take counts n events only if they
// fit under the limit (a refusal counts nothing); Give hands back events
// taken in the current window that turned out not to count.
type Limiter interface {
	Allow(ctx context.Context, rule LimitRule, key string) error
	Take(ctx context.Context, rule LimitRule, key string, n int) error
	Give(ctx context.Context, rule LimitRule, key string, n int) error
}

// The rate limits, per client IP and per target (handle, phone, app). They
// sit above what a person or a busy office behind one NAT does, and below
// what guessing needs. docs/security.md lists them.
var (
	LimitLoginIP = LimitRule{Name: "login:ip", Limit: 60, Window: 10 * time.Minute}
	// LimitLoginHandle is the slow limit on failed logins to one account
	// (or unknown handle) from every client together; Login counts only
	// failures. Reaching it
	// answers RATE_LIMITED to everyone, owner included, for the rest of
	// the hour: it bounds distributed guessing, and is high enough that a
	// stranger needs 100 guesses an hour to keep an account shut.
	LimitLoginHandle  = LimitRule{Name: "login:handle", Limit: 100, Window: time.Hour}
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

// LoginLockWindow is the window of the per-client lockout: an app's
// MaxLoginAttempts failed logins to one account (or unknown handle) from
// one client within it lock that client, and only it, out until it ends.
const LoginLockWindow = 15 * time.Minute

// loginLockRule is app a's per-(account, client) lockout; Limit 0
// (MaxLoginAttempts 0) is off.
func loginLockRule(a App) LimitRule {
	return LimitRule{Name: "login:lock", Limit: a.Settings.MaxLoginAttempts, Window: LoginLockWindow}
}

// Limits on what developers make the server do: send mail and texts to
// addresses they choose, and create apps (each makes an RSA key). Each is
// a server-wide default; docs/security.md lists them. Invitations count
// one per address, and one call takes at most MaxInvitationsPerCall.
var (
	LimitInvitesApp        = LimitRule{Name: "invites:app", Limit: 1000, Window: 24 * time.Hour}
	LimitInvitesDeveloper  = LimitRule{Name: "invites:developer", Limit: 3000, Window: 24 * time.Hour}
	LimitAppsDeveloper     = LimitRule{Name: "apps:developer", Limit: 20, Window: 24 * time.Hour}
	LimitTestSendApp       = LimitRule{Name: "testsend:app", Limit: 20, Window: time.Hour}
	LimitTestSendDeveloper = LimitRule{Name: "testsend:developer", Limit: 50, Window: time.Hour}
)

// MaxInvitationsPerCall is the most invitations one CreateInvitations
// takes, as the contract's validation rule says (admin.proto).
const MaxInvitationsPerCall = 500

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

// take counts n events for each rule under its key (app-scoped), all or
// none: when one refuses, those taken before it are given back. A nil
// Limiter limits nothing.
func (s *Service) take(ctx context.Context, appID string, n int, checks ...limitCheck) error {
	if s.limiter == nil {
		return nil
	}
	for i, c := range checks {
		if c.key == "" {
			continue
		}
		if err := s.limiter.Take(ctx, c.rule, appID+":"+c.key, n); err != nil {
			s.give(ctx, appID, n, checks[:i]...)
			return err
		}
	}
	return nil
}

// give hands back what take counted. A failure to give back only leaves a
// count too high until its window ends, so it is logged, not returned.
func (s *Service) give(ctx context.Context, appID string, n int, checks ...limitCheck) {
	if s.limiter == nil {
		return
	}
	for _, c := range checks {
		if c.key == "" {
			continue
		}
		if err := s.limiter.Give(ctx, c.rule, appID+":"+c.key, n); err != nil {
			s.log.WarnContext(ctx, "could not give back a rate-limit count", "rule", c.rule.Name, "err", err)
		}
	}
}

// TakeAppCreation counts one app creation against the developer's daily
// limit (LimitAppsDeveloper); past it, RATE_LIMITED with the time left. The
// Admin service calls it before console.CreateApp, and the returned func
// gives the count back when the creation fails, so a failed request
// changes nothing.
func (s *Service) TakeAppCreation(ctx context.Context, d Developer) (giveBack func(), err error) {
	if d.ID == "" { // an API key: CreateApp refuses it, and it counts nothing
		return func() {}, nil
	}
	check := byKey(LimitAppsDeveloper, d.ID)
	if err := s.take(ctx, "", 1, check); err != nil {
		return nil, err
	}
	return func() { s.give(context.WithoutCancel(ctx), "", 1, check) }, nil
}

// TakeTestSend counts one test message (SendTestSms, SendTestEmail) for a
// developer who may write to the app, against the per-app and
// per-developer hourly limits (LimitTestSendApp, LimitTestSendDeveloper).
// A developer who is not a member gets the same not-found answer as
// everywhere and counts nothing. The returned func gives the count back
// when the send fails.
func (s *Service) TakeTestSend(ctx context.Context, d Developer, appID string) (giveBack func(), err error) {
	if _, err := s.member(ctx, d, appID, RoleAdmin); err != nil {
		return nil, err
	}
	app, dev := byKey(LimitTestSendApp, "app"), byKey(LimitTestSendDeveloper, d.ID)
	if err := s.take(ctx, appID, 1, app); err != nil {
		return nil, err
	}
	if err := s.take(ctx, "", 1, dev); err != nil {
		s.give(ctx, appID, 1, app)
		return nil, err
	}
	return func() {
		ctx := context.WithoutCancel(ctx)
		s.give(ctx, appID, 1, app)
		s.give(ctx, "", 1, dev)
	}, nil
}
