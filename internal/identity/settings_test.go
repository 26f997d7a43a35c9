package identity

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
)

func TestAppSettingsValidate(t *testing.T) {
	t.Parallel()
	field := func(path string, typ FieldType) MetadataField { return MetadataField{Path: path, Type: typ} }
	tests := []struct {
		name   string
		change func(s *AppSettings)
		want   []string // violation fields; nil: valid
	}{
		{"defaults", func(*AppSettings) {}, nil},
		{"console settings", func(s *AppSettings) { *s = ConsoleSettings() }, nil},

		{"link flow", func(s *AppSettings) { s.SignupFlow = FlowLink }, nil},
		{"no flow", func(s *AppSettings) { s.SignupFlow = FlowNone }, nil},
		{"bad flow", func(s *AppSettings) { s.SignupFlow = "magic" }, []string{"settings.signup_flow"}},
		{"empty flow", func(s *AppSettings) { s.SignupFlow = "" }, []string{"settings.signup_flow"}},
		{"bad two factor", func(s *AppSettings) { s.TwoFactor = "email" }, []string{"settings.two_factor"}},
		{"bad status", func(s *AppSettings) { s.Status = "deleted" }, []string{"settings.status"}},

		{"shortest token lifetime", func(s *AppSettings) { s.TokenLifetime = time.Minute }, nil},
		{"longest token lifetime", func(s *AppSettings) { s.TokenLifetime = 24 * time.Hour }, nil},
		{"token lifetime too short", func(s *AppSettings) { s.TokenLifetime = 59 * time.Second }, []string{"settings.token_lifetime"}},
		{"token lifetime too long", func(s *AppSettings) { s.TokenLifetime = 24*time.Hour + time.Second }, []string{"settings.token_lifetime"}},
		{"zero token lifetime", func(s *AppSettings) { s.TokenLifetime = 0 }, []string{"settings.token_lifetime"}},

		{"refresh equal to token lifetime", func(s *AppSettings) { s.RefreshTokenLifetime = s.TokenLifetime }, nil},
		{"refresh shorter than token lifetime", func(s *AppSettings) {
			s.TokenLifetime, s.RefreshTokenLifetime = 2*time.Hour, time.Hour
		}, []string{"settings.refresh_token_lifetime"}},
		{"refresh longer than a year", func(s *AppSettings) { s.RefreshTokenLifetime = 366 * 24 * time.Hour }, []string{"settings.refresh_token_lifetime"}},

		{"invite lifetime too short", func(s *AppSettings) { s.InviteLifetime = 30 * time.Minute }, []string{"settings.invite_lifetime"}},
		{"invite lifetime too long", func(s *AppSettings) { s.InviteLifetime = 91 * 24 * time.Hour }, []string{"settings.invite_lifetime"}},
		{"negative login attempts", func(s *AppSettings) { s.MaxLoginAttempts = -1 }, []string{"settings.max_login_attempts"}},
		{"no login limit", func(s *AppSettings) { s.MaxLoginAttempts = 0 }, nil},

		{"min length 8", func(s *AppSettings) { s.PasswordPolicy.MinLength = 8 }, nil},
		{"min length 128", func(s *AppSettings) { s.PasswordPolicy.MinLength = 128 }, nil},
		{"min length below 8", func(s *AppSettings) { s.PasswordPolicy.MinLength = 7 }, []string{"settings.password_policy.min_length"}},
		{"min length above 128", func(s *AppSettings) { s.PasswordPolicy.MinLength = 129 }, []string{"settings.password_policy.min_length"}},

		{"several locales", func(s *AppSettings) { s.Locales = []string{"en", "pt-BR", "zh-Hant-TW", "fil"} }, nil},
		{"no locales", func(s *AppSettings) { s.Locales = nil }, []string{"settings.locales"}},
		{"empty locales", func(s *AppSettings) { s.Locales = []string{} }, []string{"settings.locales"}},
		{"duplicate locale", func(s *AppSettings) { s.Locales = []string{"en", "de", "en"} }, []string{"settings.locales[2]"}},
		{"upper case locale", func(s *AppSettings) { s.Locales = []string{"EN"} }, []string{"settings.locales[0]"}},
		{"underscore locale", func(s *AppSettings) { s.Locales = []string{"en", "en_US"} }, []string{"settings.locales[1]"}},
		{"word for a locale", func(s *AppSettings) { s.Locales = []string{"english"} }, []string{"settings.locales[0]"}},
		{"empty locale", func(s *AppSettings) { s.Locales = []string{""} }, []string{"settings.locales[0]"}},

		{"metadata fields", func(s *AppSettings) {
			s.SignupMetadataFields = []MetadataField{field("user_data.name", FieldString), field("user_data.age", FieldNumber)}
			s.InviteMetadataFields = []MetadataField{field("team.admin", FieldBool)}
		}, nil},
		{"reserved claim sub", func(s *AppSettings) {
			s.SignupMetadataFields = []MetadataField{field("sub", FieldString)}
		}, []string{"settings.signup_metadata_fields[0].path"}},
		{"under reserved claim email", func(s *AppSettings) {
			s.SignupMetadataFields = []MetadataField{field("user_data.name", FieldString), field("email.verified", FieldBool)}
		}, []string{"settings.signup_metadata_fields[1].path"}},
		{"reserved claim in invite fields", func(s *AppSettings) {
			s.InviteMetadataFields = []MetadataField{field("iss", FieldString)}
		}, []string{"settings.invite_metadata_fields[0].path"}},
		{"overlapping paths", func(s *AppSettings) {
			s.SignupMetadataFields = []MetadataField{field("a", FieldString), field("a.b", FieldString)}
		}, []string{"settings.signup_metadata_fields[1].path"}},
		{"overlapping paths, child first", func(s *AppSettings) {
			s.SignupMetadataFields = []MetadataField{field("a.b", FieldString), field("a", FieldString)}
		}, []string{"settings.signup_metadata_fields[1].path"}},
		{"duplicate paths", func(s *AppSettings) {
			s.SignupMetadataFields = []MetadataField{field("a", FieldString), field("a", FieldNumber)}
		}, []string{"settings.signup_metadata_fields[1].path"}},
		{"shared prefix is not overlap", func(s *AppSettings) {
			s.SignupMetadataFields = []MetadataField{field("a", FieldString), field("ab", FieldString), field("c.a", FieldString)}
		}, nil},
		{"empty path", func(s *AppSettings) {
			s.SignupMetadataFields = []MetadataField{field("", FieldString)}
		}, []string{"settings.signup_metadata_fields[0].path"}},
		{"path with empty segment", func(s *AppSettings) {
			s.SignupMetadataFields = []MetadataField{field("a..b", FieldString)}
		}, []string{"settings.signup_metadata_fields[0].path"}},
		{"path with space", func(s *AppSettings) {
			s.SignupMetadataFields = []MetadataField{field("user data", FieldString)}
		}, []string{"settings.signup_metadata_fields[0].path"}},
		{"path starting with digit", func(s *AppSettings) {
			s.SignupMetadataFields = []MetadataField{field("1st", FieldString)}
		}, []string{"settings.signup_metadata_fields[0].path"}},
		{"path segment too long", func(s *AppSettings) {
			s.SignupMetadataFields = []MetadataField{field(strings.Repeat("a", 65), FieldString)}
		}, []string{"settings.signup_metadata_fields[0].path"}},
		{"bad field type", func(s *AppSettings) {
			s.SignupMetadataFields = []MetadataField{field("birthday", "date")}
		}, []string{"settings.signup_metadata_fields[0].type"}},
		{"missing field type", func(s *AppSettings) {
			s.InviteMetadataFields = []MetadataField{field("a", FieldString), field("b", "")}
		}, []string{"settings.invite_metadata_fields[1].type"}},

		{"https redirect", func(s *AppSettings) { s.RedirectURLs = []string{"https://app.example.com/callback"} }, nil},
		{"custom scheme redirect", func(s *AppSettings) { s.RedirectURLs = []string{"myapp://cb"} }, nil},
		{"dotted custom scheme redirect", func(s *AppSettings) { s.RedirectURLs = []string{"com.example.app:/oauth"} }, nil},
		{"http localhost redirect", func(s *AppSettings) { s.RedirectURLs = []string{"http://localhost:3000"} }, nil},
		{"http loopback redirects", func(s *AppSettings) {
			s.RedirectURLs = []string{"http://127.0.0.1:8080/cb", "http://[::1]:3000/cb"}
		}, nil},
		{"http remote redirect", func(s *AppSettings) { s.RedirectURLs = []string{"http://example.com"} }, []string{"settings.redirect_urls[0]"}},
		{"http localhost lookalike", func(s *AppSettings) {
			s.RedirectURLs = []string{"https://ok.example.com", "http://localhost.evil.example"}
		}, []string{"settings.redirect_urls[1]"}},
		{"javascript redirect", func(s *AppSettings) { s.RedirectURLs = []string{"javascript:alert(1)"} }, []string{"settings.redirect_urls[0]"}},
		{"mixed-case javascript redirect", func(s *AppSettings) { s.RedirectURLs = []string{"JavaScript:alert(1)"} }, []string{"settings.redirect_urls[0]"}},
		{"data redirect", func(s *AppSettings) { s.RedirectURLs = []string{"data:text/html,<script>alert(1)</script>"} }, []string{"settings.redirect_urls[0]"}},
		{"file redirect", func(s *AppSettings) { s.RedirectURLs = []string{"file:///etc/passwd"} }, []string{"settings.redirect_urls[0]"}},
		{"relative redirect", func(s *AppSettings) { s.RedirectURLs = []string{"/callback"} }, []string{"settings.redirect_urls[0]"}},
		{"scheme-relative redirect", func(s *AppSettings) { s.RedirectURLs = []string{"//evil.example/cb"} }, []string{"settings.redirect_urls[0]"}},
		{"https without host", func(s *AppSettings) { s.RedirectURLs = []string{"https:///cb"} }, []string{"settings.redirect_urls[0]"}},

		{"key rotation too often", func(s *AppSettings) { s.KeyRotation.Interval = time.Hour }, []string{"settings.key_rotation.interval"}},
		{"key rotation daily", func(s *AppSettings) { s.KeyRotation.Interval = 24 * time.Hour }, nil},
		{"keys retired before tokens expire", func(s *AppSettings) { s.KeyRotation.RetireAfter = time.Minute }, []string{"settings.key_rotation.retire_after"}},

		{"apple with bundle id", func(s *AppSettings) { s.Apple = AppleSettings{Enabled: true, BundleIDs: []string{"com.example.app"}} }, nil},
		{"apple without bundle ids", func(s *AppSettings) { s.Apple.Enabled = true }, []string{"settings.apple.bundle_ids"}},
		{"apple disabled without bundle ids", func(s *AppSettings) { s.Apple.Enabled = false }, nil},
		{"google without client ids", func(s *AppSettings) { s.Google.Enabled = true }, []string{"settings.google.client_ids"}},

		{"every violation at once", func(s *AppSettings) {
			s.SignupFlow = "magic"
			s.PasswordPolicy.MinLength = 4
			s.Locales = []string{"EN"}
			s.RedirectURLs = []string{"http://example.com"}
			s.Apple.Enabled = true
		}, []string{"settings.apple.bundle_ids", "settings.locales[0]", "settings.password_policy.min_length", "settings.redirect_urls[0]", "settings.signup_flow"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := DefaultSettings()
			tc.change(&s)
			err := s.Validate()
			if tc.want == nil {
				if err != nil {
					t.Errorf("Validate(%+v) = %v, want nil", s, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate(%+v) = nil, want violations %q", s, tc.want)
			}
			if k := apperr.KindOf(err); k != apperr.Invalid {
				t.Errorf("Validate() kind = %v, want %v", k, apperr.Invalid)
			}
			if r := apperr.ReasonOf(err); r != apperr.ReasonInvalidArgument {
				t.Errorf("Validate() reason = %q, want %q", r, apperr.ReasonInvalidArgument)
			}
			got := violationFields(t, err)
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Errorf("Validate() violations = %q, want %q", got, want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, time.Minute},
		{1, time.Minute},
		{2, 2 * time.Minute},
		{3, 4 * time.Minute},
		{4, 8 * time.Minute},
		{11, 1024 * time.Minute},
		{12, 24 * time.Hour}, // 2048m is past a day
		{100, 24 * time.Hour},
		{1 << 30, 24 * time.Hour},
	}
	for _, tc := range tests {
		if got := Backoff(tc.n); got != tc.want {
			t.Errorf("Backoff(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

// Backoff never shrinks as failures grow.
func TestBackoffMonotonic(t *testing.T) {
	t.Parallel()
	prev := time.Duration(0)
	for n := range 64 {
		got := Backoff(n)
		if got < prev || got > 24*time.Hour {
			t.Fatalf("Backoff(%d) = %v after %v, want between %v and 24h", n, got, prev, prev)
		}
		prev = got
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{time.Hour, "1 hour"},
		{24 * time.Hour, "24 hours"},
		{48 * time.Hour, "48 hours"},
		{10 * time.Minute, "10 minutes"},
		{15 * time.Minute, "15 minutes"},
		{90 * time.Minute, "90 minutes"},
		{30 * time.Second, "1 minute"}, // rounds up: never understate a lifetime
		{time.Minute, "1 minute"},
		{90 * time.Second, "2 minutes"},
		{25*time.Hour + 30*time.Minute, "1530 minutes"},
	}
	for _, tc := range tests {
		if got := humanDuration(tc.d); got != tc.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"ann@example.com", "ann@example.com"},
		{"Ann@Example.COM", "ann@example.com"},
		{"  ann@example.com\t\n", "ann@example.com"},
		{"ÅSA@Example.se", "åsa@example.se"},
		{"", ""},
		{"   ", ""},
	}
	for _, tc := range tests {
		if got := NormalizeEmail(tc.in); got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSecretRedacted(t *testing.T) {
	t.Parallel()
	const raw = "hunter2-correct-horse"
	s := Secret(raw)
	if got := s.Reveal(); got != raw {
		t.Errorf("Secret.Reveal() = %q, want %q", got, raw)
	}
	formats := []struct {
		name string
		got  string
	}{
		{"%v", fmt.Sprintf("%v", s)},
		{"%s", fmt.Sprintf("%s", s)}, //nolint:staticcheck // the %s verb itself is under test, not a way to call String
		{"%q", fmt.Sprintf("%q", s)},
		{"%+v in a struct", fmt.Sprintf("%+v", struct{ Password Secret }{s})},
		{"%v in a slice", fmt.Sprintf("%v", []Secret{s})},
		{"Sprint", fmt.Sprint(s)},
		{"error wrap", fmt.Errorf("login with %v", s).Error()},
	}
	for _, f := range formats {
		if strings.Contains(f.got, raw) || !strings.Contains(f.got, "[REDACTED]") {
			t.Errorf("%s of a Secret = %q, want it redacted", f.name, f.got)
		}
	}

	for _, h := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
		{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
	} {
		var buf bytes.Buffer
		log := slog.New(h.new(&buf))
		log.Info("login", "password", s)
		log.With("token", s).Info("refresh")
		log.Info("grouped", slog.Group("req", "code", s))
		if out := buf.String(); strings.Contains(out, raw) || strings.Count(out, "[REDACTED]") != 3 {
			t.Errorf("slog %s output = %s, want 3 redacted secrets", h.name, out)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	st := SessionTokens{AccessToken: "topsecret", RefreshToken: "alsosecret"}
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "tokens", st)
	for name, out := range map[string]string{"%#v": fmt.Sprintf("%#v", st), "%+v": fmt.Sprintf("%+v", st), "slog JSON": buf.String()} {
		if strings.Contains(out, "secret") {
			t.Errorf("%s printed a secret: %s", name, out)
		}
	}
}
