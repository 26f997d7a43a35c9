// Package identity holds the app users' flows of CoSync Auth — signup,
// login, the second factor, social sign-in, invitations, reset, sessions —
// independent of any transport or database, and the value types the rest
// of the server shares (App, User, SigningKey, Claims, …). It declares the
// narrow interfaces it needs (Store, PasswordHasher, CodeHasher, Tokens,
// Mailer, SecretBox, …); adapters (store, token, notify, sms, social,
// secrets, ratelimit) import it and satisfy them. The developers' side
// (apps, keys, templates, outbox) is package console.
package identity

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// PasswordHasher hashes and checks passwords (argon2id in PHC form).
type PasswordHasher interface {
	Hash(ctx context.Context, plain string) (string, error)
	Verify(ctx context.Context, plain, phc string) (ok, needsRehash bool, err error)
	VerifyDummy(ctx context.Context, plain string)
}

// CodeHasher hashes one-time codes under a server pepper.
type CodeHasher interface {
	Hash(purpose, subject, code string) string
	Equal(hash, purpose, subject, code string) bool
}

// Tokens mints and verifies access tokens.
type Tokens interface {
	Mint(ctx context.Context, appID string, c Claims) (string, error)
	Verify(ctx context.Context, appID, issuer, raw string, now time.Time) (Claims, error)
}

// Mail is one email to send. Text is the plain-text part and HTML the HTML
// part; either may be empty, not both. From is optional: an empty From means
// the Mailer's default sender. AppID names the application the mail is sent
// for; it scopes the dev outbox and is not written into the mail.
type Mail struct {
	AppID   string
	From    string // RFC 5322 address, e.g. "Example <no-reply@example.com>"
	To      string // one recipient address
	Subject string
	Text    string
	HTML    string
}

// Mailer sends mail (SMTP, or the dev outbox: notify.SMTP, notify.Outbox).
// The flows never call it: they queue Deliveries, and the queue's worker
// (notify.Worker) sends them through a Mailer. Send returns an Invalid error for a malformed message and an Unavailable
// error when delivery fails.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// OutboxMessage is a message the dev outbox kept instead of sending.
type OutboxMessage struct {
	ID      string
	AppID   string
	Channel string // "email" or "sms"
	To      string
	Subject string
	Text    string
	HTML    string
	SentAt  time.Time
}

// SecretBox encrypts secrets at rest (secrets.Local, secrets.Transit).
// Associated data binds a ciphertext to its row, so one copied onto another
// row fails to open.
type SecretBox interface {
	// Seal encrypts plaintext bound to associated and returns a new slice.
	Seal(ctx context.Context, plaintext, associated []byte) ([]byte, error)
	// Open decrypts a ciphertext from Seal given the same associated data.
	Open(ctx context.Context, ciphertext, associated []byte) ([]byte, error)
}

// Deps are the parts a Service is built from. All are required except
// Limiter (nil limits nothing), Wake (nil: the send queue's worker finds
// new messages on its next poll), Log (nil
// discards), Now (nil is time.Now), SMS (nil: no app can text; SMS answers
// SMS_NOT_CONFIGURED) and DevSMS (nil outside the dev outbox; when set, apps
// without Twilio settings text into the outbox). Secrets seals TOTP secrets
// and Twilio auth tokens at rest.
type Deps struct {
	Store     Store
	Passwords PasswordHasher
	Codes     CodeHasher
	Tokens    Tokens
	Limiter   Limiter
	Wake      func() // called after a transaction that queued messages commits
	Log       *slog.Logger
	Now       func() time.Time
	Social    SocialVerifier // nil: social sign-in fails as an internal error
	Secrets   SecretBox
	SMS       SMSSender
	DevSMS    DevSMS
	Meter     Meter // nil counts nothing
}

// Config tunes a Service. The zero value of each field is the documented default.
type Config struct {
	// PublicURL is where the server is reached; it makes issuers and links.
	PublicURL string
	// SignupCodeTTL is how long a signup code lives; default 24h.
	SignupCodeTTL time.Duration
	// MaxCodeAttempts is how many guesses a code allows; default 5.
	MaxCodeAttempts int
	// RefreshGrace is how long a rotated refresh token may be presented again
	// (a client's concurrent retry) without ending its session; default 30s.
	RefreshGrace time.Duration
	// MailFrom is the default sender of application mail.
	MailFrom string
	// MailFromDomains are the domains an app's own sender may use
	// (COSYNC_MAIL_FROM_DOMAINS); a sender saved on a domain since removed
	// gives way to MailFrom. nil keeps every saved sender.
	MailFromDomains []string
	// SMSLimits caps texts per hour to one number, from one client IP and
	// by one app (the SMS pumping guard); a zero field keeps its default
	// (LimitSMSNumber, LimitSMSIP, LimitSMSApp).
	SMSLimits SMSLimits
	// DeveloperTwoFactorRequired refuses Admin calls from developers
	// without a second factor (COSYNC_DEVELOPER_REQUIRE_2FA); default off.
	DeveloperTwoFactorRequired bool
	// RateLimits replace the built-in defaults of the rules they name
	// (DefaultLimits), server-wide; an app's settings may override them
	// again (AppSettings.RateLimits). They win over SMSLimits. Names must
	// be known (config checks them; unknown ones are ignored here).
	RateLimits []LimitRule
}

// Service runs the flows. It is safe for concurrent use.
type Service struct {
	store     Store
	passwords PasswordHasher
	codes     CodeHasher
	tokens    Tokens
	wake      func()
	limiter   Limiter
	log       *slog.Logger
	now       func() time.Time
	cfg       Config
	limits    map[string]LimitRule // the server's default of each rule
	social    SocialVerifier
	secrets   SecretBox
	sms       SMSSender
	devSMS    DevSMS
	meter     Meter
}

// New returns a Service over d with cfg's defaults filled in.
func New(d Deps, cfg Config) *Service {
	if cfg.SignupCodeTTL == 0 {
		cfg.SignupCodeTTL = 24 * time.Hour
	}
	if cfg.MaxCodeAttempts == 0 {
		cfg.MaxCodeAttempts = 5
	}
	if cfg.RefreshGrace == 0 {
		cfg.RefreshGrace = 30 * time.Second
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Meter == nil {
		d.Meter = NopMeter{}
	}
	return &Service{
		store: d.Store, passwords: d.Passwords, codes: d.Codes, tokens: d.Tokens,
		wake: d.Wake, limiter: d.Limiter, log: d.Log, now: d.Now, cfg: cfg, social: d.Social,
		secrets: d.Secrets, sms: d.SMS, devSMS: d.DevSMS, limits: serverLimits(cfg), meter: d.Meter,
	}
}

// serverLimits is every configurable rule as cfg sets it: the built-in
// default, the SMS caps, then cfg.RateLimits.
func serverLimits(cfg Config) map[string]LimitRule {
	m := map[string]LimitRule{}
	for _, r := range DefaultLimits() {
		m[r.Name] = r
	}
	sms := func(r LimitRule, n int) {
		if n != 0 {
			r.Limit = n
			m[r.Name] = r
		}
	}
	sms(LimitSMSNumber, cfg.SMSLimits.PerNumber)
	sms(LimitSMSIP, cfg.SMSLimits.PerIP)
	sms(LimitSMSApp, cfg.SMSLimits.PerApp)
	for _, r := range cfg.RateLimits {
		if KnownLimit(r.Name) {
			m[r.Name] = r
		}
	}
	return m
}

// Caller is who is calling, as the transport saw it.
type Caller struct {
	AppID string
	IP    string
	// UserAgent is the client's User-Agent header; a new session keeps
	// its first MaxUserAgent characters.
	UserAgent string
	// Prehashed: password fields hold the lowercase hex MD5 of the
	// password already (CosyncJWT clients; see CosyncJWTSettings).
	Prehashed bool

	// provider is set by SocialLogin: the sessions it opens record it as
	// their method.
	provider string
}

// Principal is a signed-in user, from a verified access token.
type Principal struct {
	AppID     string
	UserID    string
	SessionID string
	IP        string
	Prehashed bool // as in Caller
	// User and Identities are the user and their linked identities as
	// Authenticate read them with the session (one round trip), for
	// CurrentUser; User is nil when the Principal was made otherwise.
	User       *User
	Identities []LinkedIdentity
}

// SessionTokens is what a sign-in returns.
type SessionTokens struct {
	AccessToken      Secret
	RefreshToken     Secret
	ExpiresAt        time.Time
	RefreshExpiresAt time.Time
	User             User
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// NormalizeEmail trims and lower-cases an email; CoSync treats addresses as
// case-insensitive, as every mail provider users meet does.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// activeApp loads the app a call names and refuses unknown and suspended apps.
func (s *Service) activeApp(ctx context.Context, appID string) (App, error) {
	const op = "identity.app"
	if appID == "" {
		return App{}, apperr.New(apperr.Invalid, apperr.ReasonAppIDRequired, "the Cosync-App-Id header is required")
	}
	a, err := s.store.GetApp(ctx, appID)
	if apperr.Is(err, apperr.NotFound) {
		return App{}, apperr.New(apperr.NotFound, apperr.ReasonAppNotFound, "no application with that id").With(op, err)
	}
	if err != nil {
		return App{}, err
	}
	if a.Settings.Status == AppSuspended {
		return App{}, apperr.New(apperr.Precondition, apperr.ReasonAppSuspended, "this application is suspended")
	}
	return a, nil
}

// audit fills the event's id and time and stores it through st (a tx).
func (s *Service) audit(ctx context.Context, st Store, e AuditEvent) error {
	return st.InsertAuditEvent(ctx, s.stamped(e))
}

// stamped is e ready to store: a new id, and the time (now) and outcome
// (success) unless set.
func (s *Service) stamped(e AuditEvent) AuditEvent {
	e.ID = newID()
	if e.OccurredAt.IsZero() {
		e.OccurredAt = s.clock()
	}
	if e.Outcome == "" {
		e.Outcome = OutcomeSuccess
	}
	return e
}

// auditFailure records a failed attempt outside any transaction; a failure
// to record it is logged, not returned, so it never masks the real error.
func (s *Service) auditFailure(ctx context.Context, e AuditEvent) {
	e.Outcome = OutcomeFailure
	if err := s.audit(ctx, s.store, e); err != nil {
		s.log.WarnContext(ctx, "audit write failed", "action", e.Action, "err", err)
	}
}

// mintErr maps a signing failure to what a client may see.
func mintErr(op string, err error) error {
	if errors.Is(err, ErrTokenTooLong) {
		return apperr.New(apperr.Precondition, apperr.ReasonMetadataInvalid,
			"the access token would exceed 2048 characters; shorten the metadata claims").With(op, err)
	}
	if k := apperr.KindOf(err); k == apperr.Unavailable {
		return apperr.New(apperr.Unavailable, apperr.ReasonSignerUnavailable, "token signing is unavailable; try again").With(op, err)
	}
	return apperr.Wrap(err, apperr.Internal, op)
}

// Now is the service's clock (UTC, microseconds), for transports that
// derive states from dates.
func (s *Service) Now() time.Time { return s.clock() }
