package cosyncjwt

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// endpoints are every call the three SDKs make (docs/cosyncjwt.md).
var endpoints = map[string]endpoint{
	"getApplication":                 {http.MethodGet, false, (*Handler).getApplication},
	"login":                          {http.MethodPost, false, (*Handler).login},
	"loginComplete":                  {http.MethodPost, false, (*Handler).loginComplete},
	"loginAnonymous":                 {http.MethodPost, false, (*Handler).loginAnonymous},
	"signup":                         {http.MethodPost, false, (*Handler).signup},
	"completeSignup":                 {http.MethodPost, false, (*Handler).completeSignup},
	"invite":                         {http.MethodPost, true, (*Handler).invite},
	"register":                       {http.MethodPost, false, (*Handler).register},
	"getUser":                        {http.MethodGet, true, (*Handler).getUser},
	"forgotPassword":                 {http.MethodPost, false, (*Handler).forgotPassword},
	"resetPassword":                  {http.MethodPost, false, (*Handler).resetPassword},
	"changePassword":                 {http.MethodPost, true, (*Handler).changePassword},
	"setPhone":                       {http.MethodPost, true, (*Handler).setPhone},
	"verifyPhone":                    {http.MethodPost, true, (*Handler).verifyPhone},
	"setTwoFactorPhoneVerification":  {http.MethodPost, true, (*Handler).setTwoFactorPhone},
	"setTwoFactorGoogleVerification": {http.MethodPost, true, (*Handler).setTwoFactorGoogle},
	"setUserMetadata":                {http.MethodPost, true, (*Handler).setUserMetadata},
	"userNameAvailable":              {http.MethodGet, true, (*Handler).userNameAvailable},
	"setUserName":                    {http.MethodPost, true, (*Handler).setUserName},
	"setLocale":                      {http.MethodPost, true, (*Handler).setLocale},
	"deleteAccount":                  {http.MethodPost, true, (*Handler).deleteAccount},
	"socialLogin":                    {http.MethodPost, false, (*Handler).socialLogin},
	"socialSignup":                   {http.MethodPost, false, (*Handler).socialSignup},
	"appleLogin":                     {http.MethodPost, false, (*Handler).appleLogin},
	"googleLogin":                    {http.MethodPost, false, (*Handler).googleLogin},
	"appleSignup":                    {http.MethodPost, false, (*Handler).appleSignup},
	"googleSignup":                   {http.MethodPost, false, (*Handler).googleSignup},
}

// handle decodes a handle field: trimmed, and a space put back as the `+`
// Swift SDKs up to 1.1.5 sent raw (an address holds no spaces).
func handle(f fields) string {
	return strings.ReplaceAll(strings.TrimSpace(f.get("handle")), " ", "+")
}

// password is an MD5 hex password field; anything else is 602, as on
// CosyncJWT.
func password(f fields, name string) (identity.Secret, error) {
	p := strings.TrimSpace(f.get(name))
	if !identity.IsMD5Hex(strings.ToLower(p)) {
		return "", fail(codeInvalidData, name+" must be the hex MD5 of the password")
	}
	return identity.Secret(strings.ToLower(p)), nil
}

// metaData parses the JSON text CosyncJWT clients send; absent is nil.
func metaData(f fields) (map[string]any, error) {
	raw := strings.TrimSpace(f.get("metaData"))
	if raw == "" {
		return nil, nil
	}
	var md map[string]any
	if err := json.Unmarshal([]byte(raw), &md); err != nil {
		return nil, fail(codeInvalidData, "metaData must be a JSON object")
	}
	return md, nil
}

func (h *Handler) sessionReply(s identity.SessionTokens, err error, signed bool) (any, error) {
	if err != nil {
		return nil, err
	}
	return h.session(s, signed)
}

func (h *Handler) login(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "handle", "password"); err != nil {
		return nil, err
	}
	pw, err := password(c.f, "password")
	if err != nil {
		return nil, err
	}
	res, err := h.flows.Login(ctx, c.caller(), handle(c.f), pw)
	if err != nil {
		return nil, err
	}
	if res.Challenge != nil {
		return map[string]string{"login-token": res.Challenge.LoginToken.Reveal()}, nil
	}
	return h.session(*res.Session, false)
}

func (h *Handler) loginComplete(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "loginToken", "code"); err != nil {
		return nil, err
	}
	s, err := h.flows.CompleteLogin(ctx, c.caller(), identity.Secret(c.f.get("loginToken")), identity.Secret(strings.TrimSpace(c.f.get("code"))))
	switch apperr.ReasonOf(err) {
	case apperr.ReasonInvalidCode, apperr.ReasonCodeExpired, apperr.ReasonTooManyAttempts:
		return nil, fail(codeInvalidCredentials, "the code is wrong") // CosyncJWT: a bad second factor is 600
	}
	return h.sessionReply(s, err, false)
}

// loginAnonymous signs in a new anonymous user. CosyncJWT keyed anonymous
// users by the client's ANON_ handle; here each call is a new anonymous
// user (the handle is checked for the prefix, as the SDKs do, and kept
// nowhere).
func (h *Handler) loginAnonymous(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "handle"); err != nil {
		return nil, err
	}
	if !strings.Contains(c.f.get("handle"), "ANON_") {
		return nil, fail(codeInvalidCredentials, "an anonymous handle starts with ANON_")
	}
	s, err := h.flows.LoginAnonymous(ctx, c.caller())
	return h.sessionReply(s, err, false)
}

func (h *Handler) signup(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "handle", "password"); err != nil {
		return nil, err
	}
	pw, err := password(c.f, "password")
	if err != nil {
		return nil, err
	}
	md, err := metaData(c.f)
	if err != nil {
		return nil, err
	}
	res, err := h.flows.SignUp(ctx, c.caller(), identity.SignUpInput{
		Handle: handle(c.f), Password: pw, Metadata: md, Locale: strings.ToLower(c.f.get("locale")),
	})
	if err != nil {
		return nil, err
	}
	if res.Session != nil {
		return h.session(*res.Session, false)
	}
	return nil, nil
}

func (h *Handler) completeSignup(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "handle", "code"); err != nil {
		return nil, err
	}
	s, err := h.flows.CompleteSignUp(ctx, c.caller(), handle(c.f), identity.Secret(strings.TrimSpace(c.f.get("code"))))
	if apperr.ReasonOf(err) == apperr.ReasonCodeExpired {
		return nil, fail(codeExpiredSignupCode, "the signup code has expired")
	}
	return h.sessionReply(s, err, true)
}

// invite takes senderUserId but ignores it: the inviter is the signed-in
// user.
func (h *Handler) invite(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "handle"); err != nil {
		return nil, err
	}
	md, err := metaData(c.f)
	if err != nil {
		return nil, err
	}
	return nil, h.flows.Invite(ctx, *c.user, identity.InviteInput{Handle: handle(c.f), Metadata: md})
}

func (h *Handler) register(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "handle", "password", "code"); err != nil {
		return nil, err
	}
	pw, err := password(c.f, "password")
	if err != nil {
		return nil, err
	}
	md, err := metaData(c.f)
	if err != nil {
		return nil, err
	}
	s, err := h.flows.Register(ctx, c.caller(), identity.RegisterInput{
		Handle: handle(c.f), Password: pw, InviteCode: identity.Secret(strings.TrimSpace(c.f.get("code"))),
		Metadata: md, Locale: strings.ToLower(c.f.get("locale")),
	})
	return h.sessionReply(s, err, true)
}

// forgotPassword answers `true` for every handle: CosyncJWT answered 603
// for unknown ones, which told anyone who has an account; we do not.
func (h *Handler) forgotPassword(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "handle"); err != nil {
		return nil, err
	}
	return nil, h.flows.ForgotPassword(ctx, c.caller(), handle(c.f))
}

func (h *Handler) resetPassword(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "handle", "password", "code"); err != nil {
		return nil, err
	}
	pw, err := password(c.f, "password")
	if err != nil {
		return nil, err
	}
	return nil, h.flows.ResetPassword(ctx, c.caller(), handle(c.f), identity.Secret(strings.TrimSpace(c.f.get("code"))), pw)
}

// changePassword ends every session of the user, this one included (our
// rule): the app's next call with the old access-token reads 405 and the
// user signs in again with the new password.
func (h *Handler) changePassword(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "password", "newPassword"); err != nil {
		return nil, err
	}
	cur, err := password(c.f, "password")
	if err != nil {
		return nil, err
	}
	next, err := password(c.f, "newPassword")
	if err != nil {
		return nil, err
	}
	if cur == next {
		return nil, fail(codeInvalidData, "the new password is the current one")
	}
	_, err = h.flows.ChangePassword(ctx, *c.user, cur, next)
	return nil, err
}

// setPhone: a raw `+` in a Swift form body arrives as a space.
func (h *Handler) setPhone(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "phone"); err != nil {
		return nil, err
	}
	phone := c.f.get("phone")
	if strings.HasPrefix(phone, " ") {
		phone = "+" + strings.TrimLeft(phone, " ")
	}
	err := h.flows.SetPhone(ctx, *c.user, strings.TrimSpace(phone))
	if apperr.ReasonOf(err) == apperr.ReasonTwoFactorDisabled || apperr.ReasonOf(err) == apperr.ReasonSMSNotConfigured {
		return nil, fail(codePhone2FANotSupported, "this application has no phone verification")
	}
	return nil, err
}

func (h *Handler) verifyPhone(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "code"); err != nil {
		return nil, err
	}
	_, err := h.flows.VerifyPhone(ctx, *c.user, identity.Secret(strings.TrimSpace(c.f.get("code"))))
	return nil, err
}

// twoFactor reads `twoFactor` sent as text, a JSON string or a JSON boolean.
func twoFactor(f fields) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(f.get("twoFactor"))) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fail(codeMissingParameter, "missing parameter twoFactor")
}

func (h *Handler) setTwoFactorPhone(ctx context.Context, c *call) (any, error) {
	on, err := twoFactor(c.f)
	if err != nil {
		return nil, err
	}
	_, err = h.flows.SetSmsTwoFactor(ctx, *c.user, on)
	if r := apperr.ReasonOf(err); r == apperr.ReasonTwoFactorDisabled || r == apperr.ReasonSMSNotConfigured {
		return nil, fail(codePhone2FANotSupported, "this application has no phone two-factor verification")
	}
	return nil, err
}

// setTwoFactorGoogleVerification(true) begins authenticator enrollment
// and answers the secret and QR image. Our rule turns the factor on only
// once a code from the authenticator confirms it, which these SDKs cannot
// send: the user confirms through a new client (docs/cosyncjwt.md).
// Turning it off needs the password or a code, likewise; the facade
// answers 602.
func (h *Handler) setTwoFactorGoogle(ctx context.Context, c *call) (any, error) {
	on, err := twoFactor(c.f)
	if err != nil {
		return nil, err
	}
	if c.app.Settings.TwoFactor != identity.TwoFactorTOTP {
		return nil, fail(codeGoogle2FANotSupported, "this application has no authenticator two-factor verification")
	}
	if !on {
		return nil, fail(codeInvalidData, "turning two-step verification off needs the password; use the new SDK")
	}
	en, err := h.flows.BeginTotpEnrollment(ctx, *c.user)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"googleSecretKey": en.Secret.Reveal(),
		"QRDataImage":     "data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRPNG),
	}, nil
}

func (h *Handler) setUserMetadata(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "metaData"); err != nil {
		return nil, err
	}
	md, err := metaData(c.f)
	if err != nil {
		return nil, err
	}
	_, err = h.flows.SetUserMetadata(ctx, *c.user, md)
	return nil, err
}

func (h *Handler) userNameAvailable(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "userName"); err != nil {
		return nil, err
	}
	free, err := h.flows.CheckUserName(ctx, *c.user, strings.TrimSpace(c.f.get("userName")))
	if err != nil {
		return nil, err
	}
	return map[string]bool{"available": free}, nil
}

func (h *Handler) setUserName(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "userName"); err != nil {
		return nil, err
	}
	_, err := h.flows.SetUserName(ctx, *c.user, strings.TrimSpace(c.f.get("userName")))
	return nil, err
}

func (h *Handler) setLocale(ctx context.Context, c *call) (any, error) {
	if err := need(c.f, "locale"); err != nil {
		return nil, err
	}
	_, err := h.flows.SetLocale(ctx, *c.user, strings.ToLower(strings.TrimSpace(c.f.get("locale"))))
	return nil, err
}

// deleteAccount re-checks the password (the handle must be the user's),
// or for a social account a fresh ID token of a linked identity.
func (h *Handler) deleteAccount(ctx context.Context, c *call) (any, error) {
	if strings.TrimSpace(c.f.get("token")) != "" {
		return nil, h.deleteSocialAccount(ctx, c)
	}
	if err := need(c.f, "handle", "password"); err != nil {
		return nil, err
	}
	pw, err := password(c.f, "password")
	if err != nil {
		return nil, err
	}
	u, err := h.flows.GetUser(ctx, *c.user)
	if err != nil {
		return nil, err
	}
	hd := handle(c.f)
	if identity.NormalizeEmail(hd) != u.Email && !strings.EqualFold(hd, u.UserName) {
		return nil, fail(codeInvalidCredentials, "the handle or password is wrong")
	}
	return nil, h.flows.DeleteAccount(ctx, *c.user, identity.DeleteAccountInput{Password: pw})
}
