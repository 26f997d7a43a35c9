package identity

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// AppSettings is every setting of an application. It is stored as JSON, so
// its field tags are the storage format: add fields, never rename them.
type AppSettings struct {
	SignupEnabled         bool            `json:"signup_enabled"`
	SignupFlow            SignupFlow      `json:"signup_flow"`
	InvitesEnabled        bool            `json:"invites_enabled"`
	AnonymousLoginEnabled bool            `json:"anonymous_login_enabled"`
	UserNamesEnabled      bool            `json:"user_names_enabled"`
	TwoFactor             TwoFactorMethod `json:"two_factor"`
	AuthenticatorLabel    string          `json:"authenticator_label,omitempty"`
	Twilio                TwilioSettings  `json:"twilio"`
	Apple                 AppleSettings   `json:"apple"`
	Google                GoogleSettings  `json:"google"`
	PasswordPolicy        PasswordPolicy  `json:"password_policy"`
	TokenLifetime         time.Duration   `json:"token_lifetime"`
	RefreshTokenLifetime  time.Duration   `json:"refresh_token_lifetime"`
	Audience              []string        `json:"audience,omitempty"`
	SignupMetadataFields  []MetadataField `json:"signup_metadata_fields,omitempty"`
	InviteMetadataFields  []MetadataField `json:"invite_metadata_fields,omitempty"`
	EmailClaim            bool            `json:"email_claim"`
	Locales               []string        `json:"locales"`
	MaxLoginAttempts      int             `json:"max_login_attempts"`
	Status                AppStatus       `json:"status"`
	RedirectURLs          []string        `json:"redirect_urls,omitempty"`
	InviteLifetime        time.Duration   `json:"invite_lifetime"`
	KeyRotation           KeyRotation     `json:"key_rotation"`
	LinkVerifiedEmails    bool            `json:"link_verified_emails"`
	SocialSkipsTwoFactor  bool            `json:"social_skips_two_factor"`
	// TOTPQRMail mails the authenticator's QR code at enrollment (the
	// CosyncJWT way). Off by default: the mailbox alone must never pass a
	// second factor; an app that turns it on accepts that risk.
	TOTPQRMail bool   `json:"totp_qr_mail,omitempty"`
	EmailFrom  string `json:"email_from,omitempty"`
	// RateLimits override the server's default of the rules they name
	// (AppLimit names only, each once); the rest keep the default.
	RateLimits []LimitRule `json:"rate_limits,omitempty"`

	// CosyncJWT serves apps built on the CosyncJWT SDKs (internal/cosyncjwt).
	CosyncJWT CosyncJWTSettings `json:"cosyncjwt,omitzero"`
}

// TwilioSettings is an application's Twilio account. The auth token is kept
// sealed (SecretBox, bound to the app) and shown only as a hint.
type TwilioSettings struct {
	AccountSID          string `json:"account_sid,omitempty"`
	AuthTokenSealed     []byte `json:"auth_token_sealed,omitempty"`
	AuthTokenHint       string `json:"auth_token_hint,omitempty"` // "****" + last four
	FromNumber          string `json:"from_number,omitempty"`
	MessagingServiceSID string `json:"messaging_service_sid,omitempty"`
}

// AppleSettings is Sign in with Apple.
type AppleSettings struct {
	Enabled   bool     `json:"enabled"`
	BundleIDs []string `json:"bundle_ids,omitempty"`
}

// GoogleSettings is Sign in with Google.
type GoogleSettings struct {
	Enabled   bool     `json:"enabled"`
	ClientIDs []string `json:"client_ids,omitempty"`
}

// KeyRotation schedules signing-key rotation; zero Interval means by hand only.
type KeyRotation struct {
	Interval    time.Duration `json:"interval"`
	RetireAfter time.Duration `json:"retire_after"`
}

// PasswordPolicy is enforced on every password that is set.
type PasswordPolicy struct {
	MinLength      int  `json:"min_length"`
	RequireUpper   bool `json:"require_upper"`
	RequireLower   bool `json:"require_lower"`
	RequireDigit   bool `json:"require_digit"`
	RequireSpecial bool `json:"require_special"`
}

// MetadataField describes one value in a user's metadata.
type MetadataField struct {
	Path         string    `json:"path"`
	Name         string    `json:"name,omitempty"`
	Required     bool      `json:"required"`
	UserEditable bool      `json:"user_editable"`
	Type         FieldType `json:"type"`
}

// Setting bounds.
const (
	MinTokenLifetime  = time.Minute
	MaxTokenLifetime  = 24 * time.Hour
	MinPasswordLength = 8 // NIST SP 800-63B floor for user-chosen passwords
	MaxPasswordLength = 1024
)

// DefaultSettings returns the settings of a new application: signup on with
// the code flow, one-hour tokens, 30-day refresh, 7-day invitations, EN mail,
// 10 failed logins before lockout, and the email claim on.
func DefaultSettings() AppSettings {
	return AppSettings{
		SignupEnabled:        true,
		SignupFlow:           FlowCode,
		TwoFactor:            TwoFactorNone,
		PasswordPolicy:       PasswordPolicy{MinLength: MinPasswordLength},
		TokenLifetime:        time.Hour,
		RefreshTokenLifetime: 30 * 24 * time.Hour,
		Locales:              []string{"en"},
		MaxLoginAttempts:     10,
		EmailClaim:           true,
		Status:               AppActive,
		InviteLifetime:       7 * 24 * time.Hour,
	}
}

var (
	pathSegment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	localeRE    = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	schemeRE    = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)
)

// Validate checks the settings and returns an Invalid error naming every bad
// field (as `settings.<field>` paths), or nil.
func (s AppSettings) Validate() error {
	var vs []apperr.Violation
	bad := func(field, format string, args ...any) {
		vs = append(vs, apperr.Violation{Field: "settings." + field, Description: fmt.Sprintf(format, args...)})
	}
	switch s.SignupFlow {
	case FlowCode, FlowLink, FlowNone:
	default:
		bad("signup_flow", "must be code, link or none")
	}
	switch s.TwoFactor {
	case TwoFactorNone, TwoFactorTOTP, TwoFactorSMS:
	default:
		bad("two_factor", "must be none, totp or sms")
	}
	switch s.Status {
	case AppActive, AppSuspended:
	default:
		bad("status", "must be active or suspended")
	}
	p := s.PasswordPolicy
	if p.MinLength < MinPasswordLength || p.MinLength > 128 {
		bad("password_policy.min_length", "must be between %d and 128", MinPasswordLength)
	}
	if s.TokenLifetime < MinTokenLifetime || s.TokenLifetime > MaxTokenLifetime {
		bad("token_lifetime", "must be between 1m and 24h")
	}
	if s.RefreshTokenLifetime < s.TokenLifetime || s.RefreshTokenLifetime > 365*24*time.Hour {
		bad("refresh_token_lifetime", "must be at least the token lifetime and at most 365 days")
	}
	if s.InviteLifetime < time.Hour || s.InviteLifetime > 90*24*time.Hour {
		bad("invite_lifetime", "must be between 1h and 90 days")
	}
	if s.MaxLoginAttempts < 0 {
		bad("max_login_attempts", "must not be negative")
	}
	if len(s.Locales) == 0 {
		bad("locales", "must list at least one locale")
	}
	seen := map[string]bool{}
	for i, l := range s.Locales {
		if !localeRE.MatchString(l) {
			bad(fmt.Sprintf("locales[%d]", i), "%q is not a locale tag like en or pt-BR", l)
		}
		if seen[l] {
			bad(fmt.Sprintf("locales[%d]", i), "%q is listed twice", l)
		}
		seen[l] = true
	}
	vs = append(vs, checkRateLimits(s.RateLimits)...)
	vs = append(vs, checkFields("signup_metadata_fields", s.SignupMetadataFields)...)
	vs = append(vs, checkFields("invite_metadata_fields", s.InviteMetadataFields)...)
	for i, u := range s.RedirectURLs {
		if err := checkRedirectURL(u); err != nil {
			bad(fmt.Sprintf("redirect_urls[%d]", i), "%v", err)
		}
	}
	if s.KeyRotation.Interval != 0 && s.KeyRotation.Interval < 24*time.Hour {
		bad("key_rotation.interval", "must be zero (by hand) or at least 24h")
	}
	if s.KeyRotation.RetireAfter != 0 && s.KeyRotation.RetireAfter < s.TokenLifetime {
		bad("key_rotation.retire_after", "must be zero (token lifetime + 1h) or at least the token lifetime")
	}
	if s.Apple.Enabled && len(s.Apple.BundleIDs) == 0 {
		bad("apple.bundle_ids", "must list at least one bundle id when Apple sign-in is enabled")
	}
	if s.Google.Enabled && len(s.Google.ClientIDs) == 0 {
		bad("google.client_ids", "must list at least one client id when Google sign-in is enabled")
	}
	return apperr.Fields(apperr.ReasonInvalidArgument, vs)
}

func checkFields(name string, fields []MetadataField) []apperr.Violation {
	var vs []apperr.Violation
	seen := map[string]bool{}
	for i, f := range fields {
		at := fmt.Sprintf("settings.%s[%d]", name, i)
		segs := strings.Split(f.Path, ".")
		ok := f.Path != ""
		for _, seg := range segs {
			ok = ok && pathSegment.MatchString(seg)
		}
		switch {
		case !ok:
			vs = append(vs, apperr.Violation{Field: at + ".path", Description: fmt.Sprintf("%q must be dotted names like user_data.name", f.Path)})
		case reservedMetadataName(segs[0]):
			vs = append(vs, apperr.Violation{Field: at + ".path", Description: fmt.Sprintf("%q would overwrite the reserved claim %q", f.Path, segs[0])})
		}
		for p := range seen {
			if p == f.Path || strings.HasPrefix(p, f.Path+".") || strings.HasPrefix(f.Path, p+".") {
				vs = append(vs, apperr.Violation{Field: at + ".path", Description: fmt.Sprintf("%q overlaps %q", f.Path, p)})
			}
		}
		seen[f.Path] = true
		switch f.Type {
		case FieldString, FieldNumber, FieldBool:
		default:
			vs = append(vs, apperr.Violation{Field: at + ".type", Description: "must be string, number or bool"})
		}
	}
	return vs
}

// checkRedirectURL allows https URLs, http only on loopback, and custom
// schemes (app deep links); never javascript:, data: or file:.
func checkRedirectURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch s := strings.ToLower(u.Scheme); {
	case s == "https":
		if u.Host == "" {
			return fmt.Errorf("%q has no host", raw)
		}
	case s == "http":
		if h := u.Hostname(); h != "localhost" && h != "127.0.0.1" && h != "::1" {
			return fmt.Errorf("%q: plain http is allowed only on localhost", raw)
		}
	case s == "javascript" || s == "data" || s == "file" || s == "vbscript" || s == "blob":
		return fmt.Errorf("%q: scheme %s is not allowed", raw, s)
	case !schemeRE.MatchString(s):
		return fmt.Errorf("%q has a bad scheme", raw)
	}
	return nil
}

// Issuer returns the `iss` of an application's tokens under publicURL; the
// OpenID configuration lives at Issuer + "/.well-known/openid-configuration".
func Issuer(publicURL, appID string) string {
	return strings.TrimRight(publicURL, "/") + "/apps/" + url.PathEscape(appID)
}

// JWKSURL returns the URL of an application's JWKS.
func JWKSURL(publicURL, appID string) string {
	return Issuer(publicURL, appID) + "/.well-known/jwks.json"
}

// EffectiveAudience is the `aud` of an app's tokens: its audience, or its id.
func (a App) EffectiveAudience() []string {
	if len(a.Settings.Audience) > 0 {
		return a.Settings.Audience
	}
	return []string{a.ID}
}
