package cosyncjwt

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// application is getApplication's reply in the field names and JSON types
// the SDKs read (booleans as booleans: Swift reads "true" as absent, and
// crashes without userNamesEnabled).
type application struct {
	Name                  string          `json:"name"`
	AppID                 string          `json:"appId"`
	Status                string          `json:"status"`
	SignupEnabled         bool            `json:"signupEnabled"`
	InvitationEnabled     bool            `json:"invitationEnabled"`
	AnonymousLoginEnabled bool            `json:"anonymousLoginEnabled"`
	UserNamesEnabled      bool            `json:"userNamesEnabled"`
	SignupFlow            string          `json:"signupFlow"`
	TwoFactorVerification string          `json:"twoFactorVerification"`
	GoogleLoginEnabled    bool            `json:"googleLoginEnabled"`
	AppleLoginEnabled     bool            `json:"appleLoginEnabled"`
	PasswordFilter        bool            `json:"passwordFilter"`
	PasswordMinLength     int             `json:"passwordMinLength"`
	PasswordMinUpper      int             `json:"passwordMinUpper"`
	PasswordMinLower      int             `json:"passwordMinLower"`
	PasswordMinDigit      int             `json:"passwordMinDigit"`
	PasswordMinSpecial    int             `json:"passwordMinSpecial"`
	AppData               map[string]any  `json:"appData"`
	Locales               []string        `json:"locales"`
	MetaData              []metaDataField `json:"metaData"`
	MetaDataInvite        []metaDataField `json:"metaDataInvite"`
	UserJWTExpiration     int             `json:"userJWTExpiration"` // hours, rounded up
}

type metaDataField struct {
	Path      string `json:"path"`
	FieldName string `json:"fieldName"`
	Required  bool   `json:"required"`
	Edit      bool   `json:"edit"`
	Type      string `json:"type"`
}

func fieldsOf(fs []identity.MetadataField) []metaDataField {
	out := make([]metaDataField, 0, len(fs))
	for _, f := range fs {
		out = append(out, metaDataField{Path: f.Path, FieldName: f.Name, Required: f.Required, Edit: f.UserEditable, Type: string(f.Type)})
	}
	return out
}

var twoFactorNames = map[identity.TwoFactorMethod]string{
	identity.TwoFactorNone: "none", identity.TwoFactorSMS: "phone", identity.TwoFactorTOTP: "google",
}

func one(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (h *Handler) getApplication(_ context.Context, c *call) (any, error) {
	st := c.app.Settings
	pp := st.PasswordPolicy
	locales := make([]string, 0, len(st.Locales))
	for _, l := range st.Locales {
		locales = append(locales, strings.ToUpper(l))
	}
	tf := twoFactorNames[st.TwoFactor]
	if tf == "" {
		tf = "none"
	}
	return application{
		Name: c.app.Name, AppID: c.app.ID, Status: string(st.Status),
		SignupEnabled: st.SignupEnabled, InvitationEnabled: st.InvitesEnabled,
		AnonymousLoginEnabled: st.AnonymousLoginEnabled, UserNamesEnabled: st.UserNamesEnabled,
		SignupFlow: string(st.SignupFlow), TwoFactorVerification: tf,
		GoogleLoginEnabled: st.Google.Enabled, AppleLoginEnabled: st.Apple.Enabled,
		PasswordFilter:    pp.MinLength > 0 || pp.RequireUpper || pp.RequireLower || pp.RequireDigit || pp.RequireSpecial,
		PasswordMinLength: pp.MinLength, PasswordMinUpper: one(pp.RequireUpper), PasswordMinLower: one(pp.RequireLower),
		PasswordMinDigit: one(pp.RequireDigit), PasswordMinSpecial: one(pp.RequireSpecial),
		AppData: map[string]any{}, Locales: locales,
		MetaData: fieldsOf(st.SignupMetadataFields), MetaDataInvite: fieldsOf(st.InviteMetadataFields),
		UserJWTExpiration: int((st.TokenLifetime + 59*60e9) / (3600e9)),
	}, nil
}

// user is getUser's reply; metaData is an object (Kotlin fails the call on
// a string) and lastLogin is in toISOString form (Swift parses nothing else).
type user struct {
	Handle                      string         `json:"handle"`
	UserName                    string         `json:"userName,omitempty"`
	Locale                      string         `json:"locale"`
	TwoFactorPhoneVerification  bool           `json:"twoFactorPhoneVerification"`
	TwoFactorGoogleVerification bool           `json:"twoFactorGoogleVerification"`
	PhoneVerified               bool           `json:"phoneVerified"`
	AppID                       string         `json:"appId"`
	Phone                       string         `json:"phone"`
	LoginProvider               string         `json:"loginProvider"`
	MetaData                    map[string]any `json:"metaData"`
	LastLogin                   string         `json:"lastLogin,omitempty"`
	Status                      string         `json:"status"`
	CreatedAt                   string         `json:"createdAt"`
	UpdatedAt                   string         `json:"updatedAt"`
}

func (h *Handler) getUser(ctx context.Context, c *call) (any, error) {
	u, err := h.flows.GetUser(ctx, *c.user)
	if err != nil {
		return nil, err
	}
	md := u.Metadata
	if md == nil {
		md = map[string]any{}
	}
	handle := u.Email
	if u.Anonymous {
		handle = "ANON_" + u.ID
	}
	return user{
		Handle: handle, UserName: u.UserName, Locale: strings.ToUpper(u.Locale),
		TwoFactorPhoneVerification: u.TwoFactor == identity.TwoFactorSMS, TwoFactorGoogleVerification: u.TwoFactor == identity.TwoFactorTOTP,
		PhoneVerified: u.PhoneVerified, AppID: u.AppID, Phone: u.Phone, LoginProvider: "email", MetaData: md,
		LastLogin: jsTime(u.LastLoginAt), Status: string(u.Status), CreatedAt: jsTime(u.CreatedAt), UpdatedAt: jsTime(u.UpdatedAt),
	}, nil
}

// signupLink answers CosyncJWT's emailed link form
// (GET completeSignup?appToken=…&handle=…&code=…) by sending the browser
// to our own landing page, which confirms with a POST.
func (h *Handler) signupLink(w http.ResponseWriter, r *http.Request) {
	q := parseForm(r.URL.RawQuery)
	a, err := h.store.FindAppByCosyncJWTToken(r.Context(), identity.CosyncJWTTokenHash(q.get("appToken")))
	if err != nil {
		status := http.StatusForbidden
		if !apperr.Is(err, apperr.NotFound) {
			status = http.StatusServiceUnavailable
		}
		http.Error(w, "This link does not belong to an application here.", status)
		return
	}
	v := url.Values{"handle": {handle(q)}, "code": {q.get("code")}}
	http.Redirect(w, r, "/apps/"+url.PathEscape(a.ID)+"/signup/confirm?"+v.Encode(), http.StatusSeeOther)
}
