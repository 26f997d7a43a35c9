package identity

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/otp"
)

// Session is one sign-in of one user on one device: the family of refresh
// tokens that rotate from it. Its id is the access token's `sid`.
type Session struct {
	ID           string
	AppID        string
	UserID       string
	CreatedAt    time.Time
	ExpiresAt    time.Time // absolute end; refresh tokens never outlive it
	RevokedAt    time.Time // zero while live
	RevokeReason string

	// Where and how it was opened, for the developer's list of a user's
	// sessions: the client's IP and User-Agent (at most MaxUserAgent
	// characters) and the way in (one of the SessionBy… methods).
	IP        string
	UserAgent string
	Method    string
	// LastUsedAt is when its refresh token was last rotated; zero until then.
	LastUsedAt time.Time
}

// How a session was opened (Session.Method).
const (
	SessionByPassword   = "password"
	SessionByAnonymous  = "anonymous"
	SessionBySignup     = "signup"
	SessionByInvitation = "invitation"
	// A social sign-in records its provider: "apple" or "google".
)

// MaxUserAgent is how many characters of a client's User-Agent a session keeps.
const MaxUserAgent = 256

// opening is the new session a sign-in that audits action opens for c:
// prepareSession fills in the rest.
func opening(c Caller, action string) Session {
	method := c.provider
	if method == "" {
		switch action {
		case "user.anonymous.create":
			method = SessionByAnonymous
		case "user.signup", "user.signup.complete", "user.anonymous.upgrade":
			method = SessionBySignup
		case "user.register":
			method = SessionByInvitation
		default: // user.login, user.password.change: a password (and maybe a second factor)
			method = SessionByPassword
		}
	}
	return Session{IP: c.IP, UserAgent: cleanUserAgent(c.UserAgent), Method: method}
}

// cleanUserAgent keeps what a database text column takes and a person
// reads: valid UTF-8 without NULs, at most MaxUserAgent characters.
func cleanUserAgent(ua string) string {
	ua = strings.ReplaceAll(strings.ToValidUTF8(ua, ""), "\x00", "")
	if utf8.RuneCountInString(ua) <= MaxUserAgent {
		return ua
	}
	return string([]rune(ua)[:MaxUserAgent])
}

// Live reports whether the session can still be used at now.
func (s Session) Live(now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt)
}

// RefreshToken is one link of a session's rotation chain. Only its hash is stored.
type RefreshToken struct {
	ID        string
	AppID     string
	SessionID string
	ParentID  string
	Hash      string
	CreatedAt time.Time
	ExpiresAt time.Time
	RotatedAt time.Time // zero until used
}

// pendingSession is a session whose tokens are minted but not yet stored:
// minting happens before the transaction (it may call Vault), storing inside it.
type pendingSession struct {
	session SessionTokens
	row     Session
	refresh RefreshToken
}

// prepareSession mints tokens for a new session of u opened as sess says
// (see opening), or a continuation of sess when sess.ID is set, whose
// refresh token descends from parentID.
func (s *Service) prepareSession(ctx context.Context, a App, u User, sess Session, parentID string) (pendingSession, error) {
	const op = "identity.session"
	now := s.clock()
	if sess.ID == "" {
		sess.ID, sess.AppID, sess.UserID, sess.CreatedAt = newID(), a.ID, u.ID, now
		sess.ExpiresAt = now.Add(a.Settings.RefreshTokenLifetime)
	}
	exp := now.Add(a.Settings.TokenLifetime)
	c := Claims{
		Issuer:    Issuer(s.cfg.PublicURL, a.ID),
		Subject:   u.ID,
		Audience:  a.EffectiveAudience(),
		IssuedAt:  now,
		Expiry:    exp,
		SessionID: sess.ID,
		UserName:  u.UserName,
		Extra:     metadataClaims(a, u.Metadata),
	}
	if a.Settings.EmailClaim {
		c.Email = u.Email
	}
	access, err := s.tokens.Mint(ctx, a.ID, c)
	if err != nil {
		return pendingSession{}, mintErr(op, err)
	}
	raw, err := otp.NewToken(32)
	if err != nil {
		return pendingSession{}, apperr.Wrap(err, apperr.Internal, op)
	}
	refreshExp := now.Add(a.Settings.RefreshTokenLifetime)
	if refreshExp.After(sess.ExpiresAt) {
		refreshExp = sess.ExpiresAt
	}
	rt := RefreshToken{ID: newID(), AppID: a.ID, SessionID: sess.ID, ParentID: parentID, Hash: otp.HashToken(raw), CreatedAt: now, ExpiresAt: refreshExp}
	return pendingSession{
		session: SessionTokens{AccessToken: Secret(access), RefreshToken: Secret(raw), ExpiresAt: exp, RefreshExpiresAt: refreshExp, User: u},
		row:     sess,
		refresh: rt,
	}, nil
}

// store writes a prepared session through tx; newSession says whether the
// session row itself is new (a refresh only adds a token).
func (p pendingSession) store(ctx context.Context, tx Store, newSession bool) error {
	if newSession {
		if err := tx.CreateSession(ctx, p.row); err != nil {
			return err
		}
	}
	return tx.CreateRefreshToken(ctx, p.refresh)
}

// RefreshSession rotates a refresh token: the presented token is spent and a
// new one issued in the same session. A token presented again within the
// grace (a client's concurrent retry) gets a sibling; later, reuse means the
// token leaked, and the whole session is revoked.
func (s *Service) RefreshSession(ctx context.Context, c Caller, raw Secret) (SessionTokens, error) {
	const op = "identity.RefreshSession"
	a, err := s.activeApp(ctx, c.AppID)
	if err != nil {
		return SessionTokens{}, err
	}
	invalid := apperr.New(apperr.Unauthenticated, apperr.ReasonRefreshTokenInvalid, "the refresh token is not valid")
	rt, sess, u, err := s.store.FindRefreshSession(ctx, a.ID, otp.HashToken(raw.Reveal()))
	if apperr.Is(err, apperr.NotFound) {
		return SessionTokens{}, invalid.With(op, err)
	}
	if err != nil {
		return SessionTokens{}, err
	}
	now := s.clock()
	switch {
	case !sess.RevokedAt.IsZero():
		return SessionTokens{}, apperr.New(apperr.Unauthenticated, apperr.ReasonSessionRevoked, "this session was signed out")
	case !now.Before(rt.ExpiresAt) || !now.Before(sess.ExpiresAt):
		return SessionTokens{}, apperr.New(apperr.Unauthenticated, apperr.ReasonRefreshTokenExpired, "the refresh token has expired; sign in again")
	case !rt.RotatedAt.IsZero() && now.Sub(rt.RotatedAt) > s.cfg.RefreshGrace:
		return SessionTokens{}, s.endReusedFamily(ctx, c, sess)
	}
	if u.Status != UserActive {
		return SessionTokens{}, apperr.New(apperr.Permission, apperr.ReasonAccountSuspended, "this account is suspended")
	}
	p, err := s.prepareSession(ctx, a, u, sess, rt.ID)
	if err != nil {
		return SessionTokens{}, err
	}
	// One change, one round trip on Postgres: the old token spent (or,
	// when a concurrent retry spent it within the grace, left as it is),
	// its successor stored and the refresh audited; a token spent before
	// the grace is reuse.
	ev := s.stamped(AuditEvent{AppID: a.ID, Action: "session.refresh", ActorID: u.ID, SubjectID: sess.ID, IP: c.IP, OccurredAt: now})
	ok, err := s.store.RotateRefreshToken(ctx, a.ID, rt.ID, now.Add(-s.cfg.RefreshGrace), p.refresh, ev)
	if err != nil {
		return SessionTokens{}, err
	}
	if !ok {
		return SessionTokens{}, s.endReusedFamily(ctx, c, sess)
	}
	return p.session, nil
}

// endReusedFamily revokes a session whose rotated refresh token came back.
func (s *Service) endReusedFamily(ctx context.Context, c Caller, sess Session) error {
	err := s.store.InTx(ctx, func(tx Store) error {
		if err := tx.RevokeSession(ctx, sess.AppID, sess.ID, "refresh_token_reused", s.clock()); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: sess.AppID, Action: "session.revoke", ActorID: sess.UserID, SubjectID: sess.ID, IP: c.IP, Reason: apperr.ReasonRefreshTokenReused})
	})
	if err != nil {
		return err
	}
	s.log.WarnContext(ctx, "refresh token reuse: session revoked", "app_id", sess.AppID, "session_id", sess.ID)
	return apperr.New(apperr.Unauthenticated, apperr.ReasonRefreshTokenReused, "the refresh token was already used; the session has been signed out")
}

// Authenticate verifies an access token for appID and checks that its
// session is still live, so a revoked session stops working at once here
// (outside verifiers see it only at `exp`).
func (s *Service) Authenticate(ctx context.Context, appID string, raw Secret, ip string) (Principal, error) {
	const op = "identity.Authenticate"
	if raw == "" {
		return Principal{}, apperr.New(apperr.Unauthenticated, apperr.ReasonTokenMissing, "sign in first: send Authorization: Bearer <access token>")
	}
	a, err := s.activeApp(ctx, appID)
	if err != nil {
		return Principal{}, err
	}
	now := s.clock()
	c, err := s.tokens.Verify(ctx, a.ID, Issuer(s.cfg.PublicURL, a.ID), raw.Reveal(), now)
	switch {
	case errors.Is(err, ErrTokenExpired):
		return Principal{}, apperr.New(apperr.Unauthenticated, apperr.ReasonTokenExpired, "the access token has expired; refresh the session").With(op, err)
	case errors.Is(err, ErrTokenInvalid):
		return Principal{}, apperr.New(apperr.Unauthenticated, apperr.ReasonTokenInvalid, "the access token is not valid for this application").With(op, err)
	case err != nil:
		return Principal{}, mintErr(op, err)
	}
	// The session, its user and their identities in one read: GetUser
	// answers from them (CurrentUser), and the other calls pay little more.
	sess, u, ids, err := s.store.GetSessionUser(ctx, a.ID, c.SessionID)
	if apperr.Is(err, apperr.NotFound) || (err == nil && (sess.UserID != c.Subject || !sess.Live(now))) {
		return Principal{}, apperr.New(apperr.Unauthenticated, apperr.ReasonSessionRevoked, "this session was signed out")
	}
	if err != nil {
		return Principal{}, err
	}
	return Principal{AppID: a.ID, UserID: c.Subject, SessionID: c.SessionID, IP: ip, User: &u, Identities: ids}, nil
}

// Logout revokes the principal's session, or all their sessions.
func (s *Service) Logout(ctx context.Context, p Principal, all bool) error {
	return s.store.InTx(ctx, func(tx Store) error {
		now := s.clock()
		if all {
			if _, err := tx.RevokeUserSessions(ctx, p.AppID, p.UserID, "", "logout_all", now); err != nil {
				return err
			}
		} else if err := tx.RevokeSession(ctx, p.AppID, p.SessionID, "logout", now); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: p.AppID, Action: "session.logout", ActorID: p.UserID, SubjectID: p.SessionID, IP: p.IP, Details: map[string]any{"all": all}})
	})
}

// CurrentUser returns the signed-in user and their linked identities: as
// Authenticate read them with the session, or read now when p was made
// otherwise.
func (s *Service) CurrentUser(ctx context.Context, p Principal) (User, []LinkedIdentity, error) {
	if p.User != nil {
		return *p.User, p.Identities, nil
	}
	u, err := s.GetUser(ctx, p)
	if err != nil {
		return User{}, nil, err
	}
	ids, err := s.Identities(ctx, p)
	if err != nil {
		return User{}, nil, err
	}
	return u, ids, nil
}

// GetUser reads the signed-in user afresh (what the flows that go on to
// change it use, rather than what Authenticate read).
func (s *Service) GetUser(ctx context.Context, p Principal) (User, error) {
	u, err := s.store.GetUser(ctx, p.AppID, p.UserID)
	if apperr.Is(err, apperr.NotFound) {
		return User{}, apperr.New(apperr.Unauthenticated, apperr.ReasonSessionRevoked, "this account no longer exists")
	}
	return u, err
}

// Backoff is the lockout after the n-th failed login past the limit:
// 1 minute, doubling, capped at one day.
func Backoff(n int) time.Duration {
	d := time.Minute
	for i := 1; i < n && d < 24*time.Hour; i++ {
		d *= 2
	}
	return min(d, 24*time.Hour)
}
