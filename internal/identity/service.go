// Package identity holds the flows of CoSync Auth — signup, login, sessions,
// applications — independent of any transport or database. It declares the
// narrow interfaces it needs (Store, PasswordHasher, CodeHasher, Tokens,
// KeyMaker, Mailer) and the server wires real implementations into them.
package identity

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/notify"
	"github.com/cosync/cosync-auth/internal/secrets"
	"github.com/cosync/cosync-auth/internal/token"
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
	Mint(ctx context.Context, appID string, c token.Claims) (string, error)
	Verify(ctx context.Context, appID, issuer, raw string, now time.Time) (token.Claims, error)
}

// KeyMaker creates signing keys and is told when an app's keys changed.
type KeyMaker interface {
	// Name is the backend new keys are made in ("local", "vault").
	Name() string
	Generate(ctx context.Context, appID string) (keys.Record, error)
	Invalidate(appID string)
}

// Mailer sends mail (SMTP, or the dev outbox).
type Mailer interface {
	Send(ctx context.Context, m notify.Message) error
}

// OutboxReader lists what the dev outbox kept; nil when real mail is configured.
type OutboxReader interface {
	List(ctx context.Context, appID string, limit int) ([]notify.OutboxMessage, error)
}

// Deps are the parts a Service is built from. All are required except
// Outbox (nil with real mail), Limiter (nil limits nothing), Log (nil
// discards), Now (nil is time.Now), SMS (nil: no app can text; SMS answers
// SMS_NOT_CONFIGURED) and DevSMS (nil outside the dev outbox; when set, apps
// without Twilio settings text into the outbox). Secrets seals TOTP secrets
// and Twilio auth tokens at rest.
type Deps struct {
	Store     Store
	Passwords PasswordHasher
	Codes     CodeHasher
	Tokens    Tokens
	Keys      KeyMaker
	Mailer    Mailer
	Outbox    OutboxReader
	Limiter   Limiter
	Log       *slog.Logger
	Now       func() time.Time
	Social    SocialVerifier // nil: social sign-in fails as an internal error
	Secrets   secrets.Box
	SMS       SMSSender
	DevSMS    DevSMS
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
	// SMSLimits caps texts per hour to one number, from one client IP and
	// by one app (the SMS pumping guard); a zero field keeps its default
	// (LimitSMSNumber, LimitSMSIP, LimitSMSApp).
	SMSLimits SMSLimits
}

// Service runs the flows. It is safe for concurrent use.
type Service struct {
	store     Store
	passwords PasswordHasher
	codes     CodeHasher
	tokens    Tokens
	keys      KeyMaker
	mailer    Mailer
	outbox    OutboxReader
	limiter   Limiter
	log       *slog.Logger
	now       func() time.Time
	cfg       Config
	social    SocialVerifier
	secrets   secrets.Box
	sms       SMSSender
	devSMS    DevSMS
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
	return &Service{
		store: d.Store, passwords: d.Passwords, codes: d.Codes, tokens: d.Tokens, keys: d.Keys,
		mailer: d.Mailer, outbox: d.Outbox, limiter: d.Limiter, log: d.Log, now: d.Now, cfg: cfg, social: d.Social,
		secrets: d.Secrets, sms: d.SMS, devSMS: d.DevSMS,
	}
}

// Caller is who is calling, as the transport saw it.
type Caller struct {
	AppID string
	IP    string
	// Prehashed: password fields hold the lowercase hex MD5 of the
	// password already (CosyncJWT clients; see CosyncJWTSettings).
	Prehashed bool
}

// Principal is a signed-in user, from a verified access token.
type Principal struct {
	AppID     string
	UserID    string
	SessionID string
	IP        string
	Prehashed bool // as in Caller
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
		return App{}, apperr.New(apperr.Invalid, ReasonAppIDRequired, "the Cosync-App-Id header is required")
	}
	a, err := s.store.GetApp(ctx, appID)
	if apperr.Is(err, apperr.NotFound) {
		return App{}, apperr.New(apperr.NotFound, ReasonAppNotFound, "no application with that id").With(op, err)
	}
	if err != nil {
		return App{}, err
	}
	if a.Settings.Status == AppSuspended {
		return App{}, apperr.New(apperr.Precondition, ReasonAppSuspended, "this application is suspended")
	}
	return a, nil
}

// audit fills the event's id and time and stores it through st (a tx).
func (s *Service) audit(ctx context.Context, st Store, e AuditEvent) error {
	e.ID = newID()
	if e.OccurredAt.IsZero() {
		e.OccurredAt = s.clock()
	}
	if e.Outcome == "" {
		e.Outcome = OutcomeSuccess
	}
	return st.InsertAuditEvent(ctx, e)
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
	if errors.Is(err, token.ErrTooLong) {
		return apperr.New(apperr.Precondition, ReasonMetadataInvalid,
			"the access token would exceed 2048 characters; shorten the metadata claims").With(op, err)
	}
	if k := apperr.KindOf(err); k == apperr.Unavailable {
		return apperr.New(apperr.Unavailable, ReasonSignerUnavailable, "token signing is unavailable; try again").With(op, err)
	}
	return apperr.Wrap(err, apperr.Internal, op)
}

// Now is the service's clock (UTC, microseconds), for transports that
// derive states from dates.
func (s *Service) Now() time.Time { return s.clock() }
