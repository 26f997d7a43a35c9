package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// LinkedIdentity is an Apple or Google identity attached to a user. It is
// keyed by the provider and the provider's subject for the person, never by
// email: the email is what the provider last said, kept for display.
type LinkedIdentity struct {
	ID         string
	AppID      string
	UserID     string
	Provider   Provider
	Subject    string
	Email      string // normalized; as the provider gave it, verified or not
	GivenName  string // Apple tells the app the name once, at the first sign-in
	FamilyName string
	CreatedAt  time.Time // when it was linked
	LastUsedAt time.Time // last sign-in with it; zero if none since the link
}

// SocialVerifier checks Apple and Google ID tokens (social.Verifier): the
// signature, issuer, audience among audiences, times and nonce. Its errors
// are *SocialError.
type SocialVerifier interface {
	Verify(ctx context.Context, p Provider, raw string, audiences []string, nonce string) (SocialClaims, error)
}

// ReauthFreshness is how recently an ID token must have been issued to
// stand in for a password when a social-only user deletes their account.
const ReauthFreshness = 5 * time.Minute

// nonceMargin keeps a used nonce a little past its token's exp, covering the
// clock skew the verifier allows.
const nonceMargin = 5 * time.Minute

// SocialLoginInput is a sign-in with an Apple or Google ID token.
type SocialLoginInput struct {
	Provider Provider
	IDToken  Secret
	// Nonce is the raw nonce the app generated for this sign-in ("" for none).
	Nonce Secret
	// GivenName and FamilyName are the name Apple gives the app, once, at
	// the person's first sign-in (Google's token carries its own).
	GivenName, FamilyName string
	// Metadata and Locale are used only when the sign-in creates the user.
	Metadata map[string]any
	Locale   string
}

// SocialLoginResult is a session or a challenge (as Login's), and the
// user's linked identities once signed in.
type SocialLoginResult struct {
	LoginResult
	Identities []LinkedIdentity
	Created    bool // the sign-in created the user
}

// SocialLogin signs in with a provider's ID token. The identity is found by
// provider and subject. A person seen for the first time is linked to the
// account with the same verified email when the app links verified emails,
// refused with ACCOUNT_EXISTS (naming how that account signs in) when it
// does not, and otherwise signed up, where signup is on. An email the
// provider has not verified is never matched or stored on the user. The
// app's second factor applies unless the app lets social sign-in skip it.
func (s *Service) SocialLogin(ctx context.Context, c Caller, in SocialLoginInput) (res SocialLoginResult, err error) {
	defer func() { s.countLogin(MethodSocial, res.Challenge != nil, err) }()
	a, err := s.activeApp(ctx, c.AppID)
	if err != nil {
		return SocialLoginResult{}, err
	}
	if err := s.limit(ctx, a.ID, byKey(s.rule(a, LimitSocialIP), c.IP)); err != nil {
		return SocialLoginResult{}, err
	}
	claims, err := s.verifyIDToken(ctx, a, in.Provider, in.IDToken, in.Nonce)
	if err != nil {
		s.auditFailure(ctx, AuditEvent{AppID: a.ID, Action: "user.login.social", IP: c.IP, Reason: apperr.ReasonOf(err),
			Details: map[string]any{"provider": string(in.Provider)}})
		return SocialLoginResult{}, err
	}
	c.provider = string(claims.Provider) // the session's method
	res, err = s.socialLogin(ctx, c, a, in, claims)
	if apperr.Is(err, apperr.Exists) && apperr.ReasonOf(err) == "" {
		// A concurrent first sign-in of the same person created the user
		// or the link first (a bare unique violation): go again, and find it.
		res, err = s.socialLogin(ctx, c, a, in, claims)
	}
	if apperr.ReasonOf(err) == apperr.ReasonNonceInvalid { // a replay, found in the sign-in's transaction
		s.auditFailure(ctx, AuditEvent{AppID: a.ID, Action: "user.login.social", IP: c.IP, Reason: apperr.ReasonNonceInvalid,
			Details: map[string]any{"provider": string(in.Provider)}})
	}
	if err != nil {
		return SocialLoginResult{}, err
	}
	if claims.Nonce != "" && s.clock().UnixMicro()%10 == 0 {
		// Now and then, forget the nonces whose tokens expired.
		if err := s.store.SweepNonces(ctx, a.ID, s.clock()); err != nil {
			s.log.WarnContext(ctx, "social nonce sweep failed", "err", err)
		}
	}
	return res, nil
}

func (s *Service) socialLogin(ctx context.Context, c Caller, a App, in SocialLoginInput, claims SocialClaims) (SocialLoginResult, error) {
	const op = "identity.SocialLogin"
	now := s.clock()
	email := verifiedEmail(claims)
	// known signs in the user the identity is linked to, if it is linked.
	known := func() (SocialLoginResult, bool, error) {
		li, err := s.store.FindIdentity(ctx, a.ID, claims.Provider, claims.Subject)
		if apperr.Is(err, apperr.NotFound) {
			return SocialLoginResult{}, false, nil
		}
		if err != nil {
			return SocialLoginResult{}, true, err
		}
		u, err := s.store.GetUser(ctx, a.ID, li.UserID)
		if err != nil {
			return SocialLoginResult{}, true, err
		}
		res, err := s.socialSignIn(ctx, c, a, u, claims, func(tx Store) error {
			return tx.TouchIdentity(ctx, a.ID, li.ID, NormalizeEmail(claims.Email), now)
		})
		return res, true, err
	}
	if res, found, err := known(); found {
		return res, err
	}

	li := newLinkedIdentity(a, claims, in, now)
	if email != "" {
		u, err := s.store.FindUserByEmail(ctx, a.ID, email)
		if err == nil {
			// A concurrent first sign-in of this same person may have made
			// the account between our two reads: then it is theirs to use.
			if res, found, err := known(); found {
				return res, err
			}
		}
		switch {
		case err == nil && a.Settings.LinkVerifiedEmails:
			li.UserID = u.ID
			return s.socialSignIn(ctx, c, a, u, claims, func(tx Store) error {
				if err := tx.CreateIdentity(ctx, li); err != nil {
					return err
				}
				return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "identity.link", ActorID: u.ID, SubjectID: u.ID, IP: c.IP,
					Details: map[string]any{"provider": string(li.Provider), "by": "verified_email"}})
			})
		case err == nil:
			methods, err := s.signInMethods(ctx, a, u)
			if err != nil {
				return SocialLoginResult{}, err
			}
			s.auditFailure(ctx, AuditEvent{AppID: a.ID, Action: "user.login.social", SubjectID: u.ID, IP: c.IP, Reason: apperr.ReasonAccountExists,
				Details: map[string]any{"provider": string(li.Provider)}})
			return SocialLoginResult{}, apperr.New(apperr.Exists, apperr.ReasonAccountExists, fmt.Sprintf(
				"an account with this email already exists: sign in with %s, then link %s to it", methods, li.Provider.Title()))
		case !apperr.Is(err, apperr.NotFound):
			return SocialLoginResult{}, err
		}
	}

	// A new person: sign them up.
	if !a.Settings.SignupEnabled {
		return SocialLoginResult{}, apperr.New(apperr.Precondition, apperr.ReasonSignupDisabled, "signup is disabled for this application")
	}
	md, err := checkMetadata(a.Settings.SignupMetadataFields, withNames(a.Settings.SignupMetadataFields, in.Metadata, li), true)
	if err != nil {
		return SocialLoginResult{}, err
	}
	locale, err := PickLocale(a, in.Locale)
	if err != nil {
		return SocialLoginResult{}, err
	}
	u := User{Email: email, Metadata: md, Locale: locale}
	u, sess, err := s.createUserWith(ctx, c, a, u, "", "user.signup.social", func(tx Store) error {
		return s.useNonce(ctx, tx, a, claims)
	}, func(tx Store, u User) error {
		li.UserID = u.ID
		return tx.CreateIdentity(ctx, li)
	})
	if err != nil {
		return SocialLoginResult{}, err
	}
	li.UserID = u.ID
	s.log.DebugContext(ctx, "social signup", "op", op, "app_id", a.ID, "provider", li.Provider)
	return SocialLoginResult{LoginResult: LoginResult{Session: &sess}, Identities: []LinkedIdentity{li}, Created: true}, nil
}

// socialSignIn signs an existing user in after a verified ID token: the
// second factor first (unless the app skips it for social sign-in), then
// the session, with extra (linking or touching the identity) and the nonce
// in the same transaction.
func (s *Service) socialSignIn(ctx context.Context, c Caller, a App, u User, claims SocialClaims, extra func(Store) error) (SocialLoginResult, error) {
	if u.Status != UserActive {
		return SocialLoginResult{}, apperr.New(apperr.Permission, apperr.ReasonAccountSuspended, "this account is suspended")
	}
	steps := func(tx Store) error {
		if err := s.useNonce(ctx, tx, a, claims); err != nil {
			return err
		}
		return extra(tx)
	}
	if !a.Settings.SocialSkipsTwoFactor {
		ch, err := s.secondFactor(ctx, c, a, u)
		if err != nil {
			return SocialLoginResult{}, err
		}
		if ch != nil {
			// The token is spent on the challenge; CompleteLogin finishes.
			if err := s.store.InTx(ctx, steps); err != nil {
				return SocialLoginResult{}, err
			}
			return SocialLoginResult{LoginResult: LoginResult{Challenge: ch}}, nil
		}
	}
	sess, err := s.signIn(ctx, c, a, u, "user.login.social", steps)
	if err != nil {
		return SocialLoginResult{}, err
	}
	ids, err := s.store.ListIdentities(ctx, a.ID, u.ID)
	if err != nil {
		return SocialLoginResult{}, err
	}
	return SocialLoginResult{LoginResult: LoginResult{Session: &sess}, Identities: ids}, nil
}

// LinkIdentity attaches the person an ID token names to the signed-in user.
// Linking the identity already linked to this user changes nothing; one
// linked to another user is refused with ACCOUNT_EXISTS, and a second
// identity of the same provider with ALREADY_EXISTS.
func (s *Service) LinkIdentity(ctx context.Context, p Principal, provider Provider, idToken, nonce Secret) (User, []LinkedIdentity, error) {
	a, err := s.activeApp(ctx, p.AppID)
	if err != nil {
		return User{}, nil, err
	}
	if err := s.limit(ctx, a.ID, byKey(s.rule(a, LimitSocialIP), p.IP)); err != nil {
		return User{}, nil, err
	}
	claims, err := s.verifyIDToken(ctx, a, provider, idToken, nonce)
	if err != nil {
		s.auditFailure(ctx, AuditEvent{AppID: a.ID, Action: "identity.link", ActorID: p.UserID, SubjectID: p.UserID, IP: p.IP,
			Reason: apperr.ReasonOf(err), Details: map[string]any{"provider": string(provider)}})
		return User{}, nil, err
	}
	u, err := s.GetUser(ctx, p)
	if err != nil {
		return User{}, nil, err
	}
	taken := apperr.New(apperr.Exists, apperr.ReasonAccountExists,
		fmt.Sprintf("this %s account is linked to another account of this application", provider.Title()))
	existing, err := s.store.FindIdentity(ctx, a.ID, provider, claims.Subject)
	switch {
	case err == nil && existing.UserID == u.ID:
		ids, err := s.store.ListIdentities(ctx, a.ID, u.ID)
		return u, ids, err
	case err == nil:
		return User{}, nil, taken
	case !apperr.Is(err, apperr.NotFound):
		return User{}, nil, err
	}
	li := newLinkedIdentity(a, claims, SocialLoginInput{}, s.clock())
	li.UserID = u.ID
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := s.useNonce(ctx, tx, a, claims); err != nil {
			return err
		}
		if err := tx.CreateIdentity(ctx, li); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "identity.link", ActorID: u.ID, SubjectID: u.ID, IP: p.IP,
			Details: map[string]any{"provider": string(provider)}})
	})
	if apperr.Is(err, apperr.Exists) && apperr.ReasonOf(err) == "" {
		// Either this user has another identity of the provider, or the
		// identity was linked elsewhere meanwhile: say which.
		if other, ferr := s.store.FindIdentity(ctx, a.ID, provider, claims.Subject); ferr == nil && other.UserID != u.ID {
			return User{}, nil, taken.With("identity.LinkIdentity", err)
		}
		return User{}, nil, apperr.New(apperr.Exists, apperr.ReasonAlreadyExists, fmt.Sprintf(
			"another %s account is linked to this account; unlink it first", provider.Title())).With("identity.LinkIdentity", err)
	}
	if err != nil {
		return User{}, nil, err
	}
	ids, err := s.store.ListIdentities(ctx, a.ID, u.ID)
	return u, ids, err
}

// UnlinkIdentity detaches the signed-in user's identity of provider, unless
// it is their last way to sign in (no password, no other identity).
func (s *Service) UnlinkIdentity(ctx context.Context, p Principal, provider Provider) (User, []LinkedIdentity, error) {
	a, err := s.activeApp(ctx, p.AppID)
	if err != nil {
		return User{}, nil, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		// Two unlinks at once must not both see the other identity remain.
		if err := tx.LockUserRow(ctx, a.ID, p.UserID); err != nil {
			return err
		}
		ids, err := tx.ListIdentities(ctx, a.ID, p.UserID)
		if err != nil {
			return err
		}
		found := false
		for _, li := range ids {
			found = found || li.Provider == provider
		}
		if !found {
			return apperr.New(apperr.NotFound, apperr.ReasonNotFound, fmt.Sprintf("no %s account is linked to this account", provider.Title()))
		}
		hash, err := tx.PasswordHash(ctx, a.ID, p.UserID)
		if err != nil {
			return err
		}
		if hash == "" && len(ids) == 1 {
			return apperr.New(apperr.Precondition, apperr.ReasonLastSignInMethod, fmt.Sprintf(
				"%s is this account's only way to sign in; set a password or link another account first", provider.Title()))
		}
		if err := tx.DeleteIdentity(ctx, a.ID, p.UserID, provider); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "identity.unlink", ActorID: p.UserID, SubjectID: p.UserID, IP: p.IP,
			Details: map[string]any{"provider": string(provider)}})
	})
	if apperr.Is(err, apperr.NotFound) && apperr.ReasonOf(err) == "" {
		return User{}, nil, apperr.New(apperr.Unauthenticated, apperr.ReasonSessionRevoked, "this account no longer exists")
	}
	if err != nil {
		return User{}, nil, err
	}
	u, err := s.GetUser(ctx, p)
	if err != nil {
		return User{}, nil, err
	}
	ids, err := s.store.ListIdentities(ctx, a.ID, u.ID)
	return u, ids, err
}

// Identities returns the user's linked identities, ordered by provider.
func (s *Service) Identities(ctx context.Context, p Principal) ([]LinkedIdentity, error) {
	return s.store.ListIdentities(ctx, p.AppID, p.UserID)
}

// reauthenticateSocial checks that idToken, fresh from provider ("apple" or
// "google"), names one of u's linked identities and was issued within
// ReauthFreshness: a social-only user's proof of presence where others give
// their password (DeleteAccount). A nonce, when given, is spent.
func (s *Service) reauthenticateSocial(ctx context.Context, a App, u User, provider, idToken, nonce string) error {
	p, err := ParseProvider(provider)
	if err != nil {
		return err
	}
	claims, err := s.verifyIDToken(ctx, a, p, Secret(idToken), Secret(nonce))
	if err != nil {
		return err
	}
	li, err := s.store.FindIdentity(ctx, a.ID, p, claims.Subject)
	if apperr.Is(err, apperr.NotFound) || (err == nil && li.UserID != u.ID) {
		return idTokenInvalid(fmt.Sprintf("the %s account is not linked to this account", p.Title()), nil)
	}
	if err != nil {
		return err
	}
	if age := s.clock().Sub(claims.IssuedAt); age > ReauthFreshness {
		return idTokenInvalid(fmt.Sprintf("the ID token was issued %s ago; sign in with %s again (within %s)",
			age.Round(time.Second), p.Title(), ReauthFreshness), nil)
	}
	return s.useNonce(ctx, s.store, a, claims)
}

// ParseProvider reads a provider name: "apple" or "google", in any case,
// with or without the API's PROVIDER_ prefix.
func ParseProvider(name string) (Provider, error) {
	n := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), "provider_")
	for _, p := range Providers {
		if n == string(p) {
			return p, nil
		}
	}
	return "", apperr.Field("provider", "must be apple or google")
}

// verifyIDToken checks that the provider is enabled for the app and the
// token verifies against the app's ids for it; verification failures become
// ID_TOKEN_INVALID or NONCE_INVALID (Unauthenticated, naming the field).
func (s *Service) verifyIDToken(ctx context.Context, a App, p Provider, raw, nonce Secret) (SocialClaims, error) {
	const op = "identity.verifyIDToken"
	var audiences []string
	enabled := false
	switch p {
	case Apple:
		enabled, audiences = a.Settings.Apple.Enabled, a.Settings.Apple.BundleIDs
	case Google:
		enabled, audiences = a.Settings.Google.Enabled, a.Settings.Google.ClientIDs
	default:
		return SocialClaims{}, apperr.Field("provider", "must be apple or google")
	}
	if !enabled || len(audiences) == 0 {
		return SocialClaims{}, apperr.New(apperr.Precondition, apperr.ReasonProviderDisabled,
			fmt.Sprintf("Sign in with %s is not enabled for this application", p.Title()))
	}
	if s.social == nil {
		return SocialClaims{}, apperr.Wrap(errors.New("no ID token verifier configured"), apperr.Internal, op)
	}
	claims, err := s.social.Verify(ctx, p, raw.Reveal(), audiences, nonce.Reveal())
	var se *SocialError
	switch {
	case err == nil:
		return claims, nil
	case errors.As(err, &se) && errors.Is(se.Kind, ErrNonce):
		return SocialClaims{}, apperr.New(apperr.Unauthenticated, apperr.ReasonNonceInvalid, "the nonce does not fit the ID token: "+se.Detail).With(op, err).WithViolations(apperr.Violation{Field: "nonce", Description: se.Detail})
	case errors.As(err, &se) && errors.Is(se.Kind, ErrIDTokenInvalid):
		return SocialClaims{}, idTokenInvalid(se.Detail, err)
	case errors.As(err, &se) && errors.Is(se.Kind, ErrProviderUnavailable):
		return SocialClaims{}, apperr.New(apperr.Unavailable, "", se.Detail).With(op, err)
	}
	return SocialClaims{}, apperr.Wrap(err, apperr.Internal, op)
}

func idTokenInvalid(detail string, cause error) error {
	return apperr.New(apperr.Unauthenticated, apperr.ReasonIDTokenInvalid, "the ID token is not valid: "+detail).With("identity.verifyIDToken", cause).WithViolations(apperr.Violation{Field: "id_token", Description: detail})
}

// useNonce spends the token's nonce through st: a nonce seen before (until
// its token expires) is a replay, refused with NONCE_INVALID. Tokens
// without a nonce are not tracked.
func (s *Service) useNonce(ctx context.Context, st Store, a App, claims SocialClaims) error {
	if claims.Nonce == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(claims.Nonce))
	first, err := st.UseNonce(ctx, a.ID, claims.Provider, hex.EncodeToString(sum[:]), claims.ExpiresAt.Add(nonceMargin), s.clock())
	if err != nil {
		return err
	}
	if !first {
		return apperr.New(apperr.Unauthenticated, apperr.ReasonNonceInvalid, "this ID token was already used; sign in with the provider again").WithViolations(apperr.Violation{Field: "nonce", Description: "was already used"})
	}
	return nil
}

// signInMethods describes how u signs in today, for ACCOUNT_EXISTS:
// "your password", "Google", "your password or Apple".
func (s *Service) signInMethods(ctx context.Context, a App, u User) (string, error) {
	var methods []string
	if u.HasPassword {
		methods = append(methods, "your password")
	}
	ids, err := s.store.ListIdentities(ctx, a.ID, u.ID)
	if err != nil {
		return "", err
	}
	for _, li := range ids {
		methods = append(methods, li.Provider.Title())
	}
	if len(methods) == 0 {
		return "the way you signed up", nil
	}
	return strings.Join(methods, " or "), nil
}

// verifiedEmail is the token's email, normalized, when the provider
// verified it; "" otherwise. Apple's private-relay addresses are verified
// addresses like any other.
func verifiedEmail(c SocialClaims) string {
	if !c.EmailVerified {
		return ""
	}
	return NormalizeEmail(c.Email)
}

// newLinkedIdentity is the identity row for a first sign-in or a link: the
// name from the request (Apple gives it to the app) or the token (Google).
func newLinkedIdentity(a App, c SocialClaims, in SocialLoginInput, now time.Time) LinkedIdentity {
	li := LinkedIdentity{
		ID: newID(), AppID: a.ID, Provider: c.Provider, Subject: c.Subject, Email: NormalizeEmail(c.Email),
		GivenName: strings.TrimSpace(in.GivenName), FamilyName: strings.TrimSpace(in.FamilyName),
		CreatedAt: now, LastUsedAt: now,
	}
	if li.GivenName == "" && li.FamilyName == "" {
		li.GivenName, li.FamilyName = c.GivenName, c.FamilyName
	}
	return li
}

// withNames returns md with the person's name filled in where the app
// declares a string metadata field whose path ends in given_name or
// family_name and md leaves it out. Other apps keep the name on the
// identity only.
func withNames(fields []MetadataField, md map[string]any, li LinkedIdentity) map[string]any {
	out := deepCopy(md)
	for _, f := range fields {
		if f.Type != FieldString {
			continue
		}
		var name string
		switch f.Path[strings.LastIndex(f.Path, ".")+1:] {
		case "given_name":
			name = li.GivenName
		case "family_name":
			name = li.FamilyName
		}
		if _, set := lookupPath(out, f.Path); name != "" && !set {
			setPath(out, f.Path, name)
		}
	}
	return out
}

// deepCopy copies the nested objects of a JSON object, so setPath does not
// write into the caller's maps.
func deepCopy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = deepCopy(sub)
		}
		out[k] = v
	}
	return out
}
