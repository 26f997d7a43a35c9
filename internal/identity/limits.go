package identity

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// LimitRule is one limit: at most Limit events per Window for each key.
// Its JSON form is how an app's overrides are stored (AppSettings.RateLimits).
type LimitRule struct {
	Name   string        `json:"name"` // e.g. "login:ip"; part of the stored key
	Limit  int           `json:"limit"`
	Window time.Duration `json:"window"`
}

// Limiter counts attempts in windows shared by every replica
// (ratelimit.Limiter). Take counts every LimitCount in one round trip, all
// or none: when one would pass its limit nothing is counted, and it returns
// that one's index with a RateLimited error (refused is -1 otherwise). Give
// hands back events taken in the current window that turned out not to
// count.
type Limiter interface {
	Take(ctx context.Context, counts ...LimitCount) (refused int, err error)
	// Give gives back what Take counted, every LimitCount in one round trip.
	Give(ctx context.Context, gives ...LimitCount) error
}

// LimitCount is N events taken or given back under Rule for Key.
type LimitCount struct {
	Rule LimitRule
	Key  string
	N    int
}

// The rate limits, per client IP and per target (handle, phone, app). They
// sit above what a person or a busy office behind one NAT does, and below
// what guessing needs. docs/security.md lists them. These are the built-in
// defaults: the server's configuration (Config.RateLimits) replaces them
// server-wide, and an app's settings (AppSettings.RateLimits) per app; the
// flows ask Service.rule for the one in force.
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
	return LimitRule{Name: LimitLoginLock, Limit: a.Settings.MaxLoginAttempts, Window: LoginLockWindow}
}

// Limits on what developers make the server do: send mail and texts to
// addresses they choose, and create apps (each makes an RSA key). Each is
// a server-wide default; docs/security.md lists them. Invitations count
// one per address, and one call takes at most MaxInvitationsPerCall: an
// app's day fits two full calls (a CSV and its corrections), users'
// invitations included, and a developer's day five, so one account with
// many apps still mails a bounded number of strangers a day.
var (
	LimitInvitesApp        = LimitRule{Name: "invites:app", Limit: 2000, Window: 24 * time.Hour}
	LimitInvitesDeveloper  = LimitRule{Name: "invites:developer", Limit: 5000, Window: 24 * time.Hour}
	LimitAppsDeveloper     = LimitRule{Name: "apps:developer", Limit: 20, Window: 24 * time.Hour}
	LimitTestSendApp       = LimitRule{Name: "testsend:app", Limit: 20, Window: time.Hour}
	LimitTestSendDeveloper = LimitRule{Name: "testsend:developer", Limit: 50, Window: time.Hour}
)

// MaxInvitationsPerCall is the most invitations one CreateInvitations
// takes, as the contract's validation rule says (admin.proto).
const MaxInvitationsPerCall = 1000

// LimitSocialIP caps ID-token sign-ins and links from one client IP, as
// LimitLoginIP does passwords.
var LimitSocialIP = LimitRule{Name: "social:ip", Limit: 60, Window: 10 * time.Minute}

// LimitLoginLock names the per-(account, client) lockout in the list of
// effective limits; its limit is the app's MaxLoginAttempts, so it is
// changed there, never as an override.
const LimitLoginLock = "login:lock"

// DefaultLimits returns every configurable rule with its built-in default,
// in the order docs/security.md lists them. The lockout (LimitLoginLock) is
// not among them: its threshold is the app's MaxLoginAttempts.
func DefaultLimits() []LimitRule {
	return []LimitRule{
		LimitLoginIP, LimitLoginHandle, LimitSignupIP, LimitSignupHandle, LimitResetIP, LimitResetHandle,
		LimitInviteIP, LimitInviteUser, LimitCodeIP, LimitCodeHandle, LimitSocialIP,
		LimitSMSNumber, LimitSMSIP, LimitSMSApp,
		LimitInvitesApp, LimitInvitesDeveloper, LimitAppsDeveloper, LimitTestSendApp, LimitTestSendDeveloper,
	}
}

// serverOnlyLimits bound what developers make the server do (mail they
// address, apps that each cost an RSA key): an app's admins must not lift
// them, so only the server's configuration changes them.
var serverOnlyLimits = []string{
	LimitInvitesApp.Name, LimitInvitesDeveloper.Name, LimitAppsDeveloper.Name,
	LimitTestSendApp.Name, LimitTestSendDeveloper.Name,
}

// KnownLimit reports whether name is a configurable rule (DefaultLimits).
func KnownLimit(name string) bool {
	return slices.ContainsFunc(DefaultLimits(), func(r LimitRule) bool { return r.Name == name })
}

// AppLimit reports whether an app's settings may override the rule name:
// every configurable rule except those that bound developers.
func AppLimit(name string) bool { return KnownLimit(name) && !slices.Contains(serverOnlyLimits, name) }

// Bounds of a configured or overridden rule, as the Admin contract's
// validation says (admin types.proto RateLimit).
const (
	MaxLimitCount  = 1_000_000
	MinLimitWindow = time.Second
	MaxLimitWindow = 30 * 24 * time.Hour
)

// CheckLimit returns why r cannot be a rule, or nil; known says which
// names are allowed (KnownLimit for the server, AppLimit for an app).
func CheckLimit(r LimitRule, known func(string) bool) error {
	switch {
	case r.Name == LimitLoginLock:
		return fmt.Errorf("%q is the lockout; set max_login_attempts instead", r.Name)
	case !known(r.Name):
		if KnownLimit(r.Name) {
			return fmt.Errorf("%q is a server-wide limit; only the server's configuration changes it", r.Name)
		}
		return fmt.Errorf("%q is not a rate limit (known: %s)", r.Name, limitNames(known))
	case r.Limit < 1 || r.Limit > MaxLimitCount:
		return fmt.Errorf("limit %d must be between 1 and %d", r.Limit, MaxLimitCount)
	case r.Window < MinLimitWindow || r.Window > MaxLimitWindow:
		return fmt.Errorf("window %s must be between 1s and 720h", r.Window)
	}
	return nil
}

func limitNames(known func(string) bool) string {
	var out string
	for _, r := range DefaultLimits() {
		if known(r.Name) {
			if out != "" {
				out += ", "
			}
			out += r.Name
		}
	}
	return out
}

// checkRateLimits validates an app's overrides: known, overridable names,
// each once, within bounds.
func checkRateLimits(rs []LimitRule) []apperr.Violation {
	var vs []apperr.Violation
	seen := map[string]bool{}
	for i, r := range rs {
		at := fmt.Sprintf("settings.rate_limits[%d]", i)
		if err := CheckLimit(r, AppLimit); err != nil {
			field := at + ".name"
			if AppLimit(r.Name) {
				field = at + ".limit"
				if r.Limit >= 1 && r.Limit <= MaxLimitCount {
					field = at + ".window"
				}
			}
			vs = append(vs, apperr.Violation{Field: field, Description: err.Error()})
			continue
		}
		if seen[r.Name] {
			vs = append(vs, apperr.Violation{Field: at + ".name", Description: fmt.Sprintf("%q is listed twice", r.Name)})
		}
		seen[r.Name] = true
	}
	return vs
}

// rule returns base as it applies to app a: a's override, else the
// server's configured default, else base itself. For rules keyed by
// developer pass the zero App.
func (s *Service) rule(a App, base LimitRule) LimitRule {
	for _, o := range a.Settings.RateLimits {
		if o.Name == base.Name && AppLimit(o.Name) {
			return o
		}
	}
	if r, ok := s.limits[base.Name]; ok {
		return r
	}
	return base
}

// EffectiveLimits returns every rule as it applies to an app with settings
// st (its overrides over the server's defaults), the lockout last, for
// GetApp. Rules keyed by developer, not app, are left out.
func (s *Service) EffectiveLimits(st AppSettings) []LimitRule {
	a := App{Settings: st}
	var out []LimitRule
	for _, r := range DefaultLimits() {
		if r.Name == LimitInvitesDeveloper.Name || r.Name == LimitAppsDeveloper.Name || r.Name == LimitTestSendDeveloper.Name {
			continue
		}
		out = append(out, s.rule(a, r))
	}
	if st.MaxLoginAttempts > 0 {
		out = append(out, loginLockRule(a))
	}
	return out
}

// limit counts one event for each rule under its key (app-scoped), all or
// none, in one round trip, and returns the first refusal.
func (s *Service) limit(ctx context.Context, appID string, checks ...limitCheck) error {
	return s.take(ctx, appID, 1, checks...)
}

type limitCheck struct {
	rule LimitRule
	key  string
}

func byKey(rule LimitRule, key string) limitCheck { return limitCheck{rule, key} }

// in is n events under c's rule for c's key within app appID.
func (c limitCheck) in(appID string, n int) LimitCount {
	return LimitCount{Rule: c.rule, Key: scoped(appID, c.key), N: n}
}

// countsIn is n events under each check within app appID.
func countsIn(appID string, n int, checks []limitCheck) []LimitCount {
	counts := make([]LimitCount, len(checks))
	for i, c := range checks {
		counts[i] = c.in(appID, n)
	}
	return counts
}

// scoped is key within app appID ("" when key is "": not counted).
func scoped(appID, key string) string {
	if key == "" {
		return ""
	}
	return appID + ":" + key
}

// take counts n events for each rule under its key (app-scoped), all or
// none, in one round trip.
func (s *Service) take(ctx context.Context, appID string, n int, checks ...limitCheck) error {
	_, err := s.takeWhich(ctx, appID, n, checks...)
	return err
}

// takeWhich is take that also says which check refused (its index; -1
// when none did).
func (s *Service) takeWhich(ctx context.Context, appID string, n int, checks ...limitCheck) (int, error) {
	return s.takeCounts(ctx, countsIn(appID, n, checks)...)
}

// takeCounts takes counts of any apps, all or none, in one round trip, and
// says which refused. A nil Limiter (some unit tests) limits nothing.
func (s *Service) takeCounts(ctx context.Context, counts ...LimitCount) (int, error) {
	if s.limiter == nil {
		return -1, nil
	}
	return s.limiter.Take(ctx, counts...)
}

// give hands back n events under each check (app-scoped) that take
// counted.
func (s *Service) give(ctx context.Context, appID string, n int, checks ...limitCheck) {
	s.giveCounts(ctx, countsIn(appID, n, checks)...)
}

// giveCounts hands counts back in one round trip, even when the caller
// has gone meanwhile. A failure to give back only leaves a count too high
// until its window ends, so it is logged, not returned.
func (s *Service) giveCounts(ctx context.Context, counts ...LimitCount) {
	if s.limiter == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	counts = slices.DeleteFunc(slices.Clone(counts), func(c LimitCount) bool { return c.Key == "" })
	if len(counts) == 0 {
		return
	}
	if err := s.limiter.Give(ctx, counts...); err != nil {
		s.log.WarnContext(ctx, "could not give back a rate-limit count", "rule", counts[0].Rule.Name, "err", err)
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
	check := byKey(s.rule(App{}, LimitAppsDeveloper), d.ID)
	if err := s.take(ctx, "", 1, check); err != nil {
		return nil, err
	}
	return func() { s.give(ctx, "", 1, check) }, nil
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
	app, dev := byKey(s.rule(App{}, LimitTestSendApp), "app"), byKey(s.rule(App{}, LimitTestSendDeveloper), d.ID)
	counts := []LimitCount{app.in(appID, 1), dev.in("", 1)}
	if _, err := s.takeCounts(ctx, counts...); err != nil {
		return nil, err
	}
	return func() { s.giveCounts(ctx, counts...) }, nil
}
