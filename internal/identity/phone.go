package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/templates"
)

// SMSSender texts through an application's Twilio account (sms.Twilio).
type SMSSender interface {
	// Send texts body to the E.164 number to and returns the message id.
	// Errors are *SMSError.
	Send(ctx context.Context, a SMSAccount, to, body string) (string, error)
}

// DevSMS keeps texts instead of sending them (the dev outbox).
type DevSMS interface {
	SendSMS(ctx context.Context, appID, to, text string) error
}

// SMSLimits are the hourly caps on texts; zero keeps a default.
type SMSLimits struct {
	PerNumber, PerIP, PerApp int
}

// PhoneCodeTTL is how long a phone verification code lives.
const PhoneCodeTTL = 10 * time.Minute

// pendingPhone is a phone code's payload: the number it was texted to.
type pendingPhone struct {
	Phone string `json:"phone"`
}

// NormalizePhone checks that phone is a valid number in E.164 form (with
// its country code) and returns it as E.164. Anything else is an Invalid
// error naming field.
func NormalizePhone(field, phone string) (string, error) {
	bad := apperr.Field(field, "must be a valid phone number in E.164 form, e.g. +14155550100")
	if !e164.MatchString(phone) {
		return "", bad
	}
	n, err := phonenumbers.Parse(phone, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", bad
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// SetPhone texts a verification code to phone for the signed-in user. The
// user's phone changes only when VerifyPhone proves the code; a number
// another user of the app verified is refused (PHONE_TAKEN). Re-setting
// the number the user already verified sends nothing.
func (s *Service) SetPhone(ctx context.Context, p Principal, phone string) error {
	const op = "identity.SetPhone"
	a, u, err := s.principalUser(ctx, p)
	if err != nil {
		return err
	}
	if phone, err = NormalizePhone("phone", phone); err != nil {
		return err
	}
	if u.PhoneVerified && u.Phone == phone {
		return nil
	}
	owner, err := s.store.FindUserByVerifiedPhone(ctx, a.ID, phone)
	switch {
	case err == nil && owner.ID != u.ID:
		return apperr.New(apperr.Exists, apperr.ReasonPhoneTaken, "another account verified this phone number")
	case err != nil && !apperr.Is(err, apperr.NotFound):
		return err
	}
	c := Caller{AppID: a.ID, IP: p.IP}
	if _, err := s.smsRoute(ctx, a, true); err != nil {
		return err
	}
	if err := s.smsCaps(ctx, c, a, phone); err != nil {
		return err
	}
	payload, err := json.Marshal(pendingPhone{Phone: phone})
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, op)
	}
	pc, code, err := s.newCode(a, PurposePhone, u.ID, PhoneCodeTTL, payload)
	if err != nil {
		return err
	}
	text, err := s.text(ctx, a, u.Locale, phone, code, PhoneCodeTTL)
	if err != nil {
		return err
	}
	// The text is queued with the code: SetPhone answers once both are
	// stored and never waits on Twilio, so a failure Twilio reports later
	// cannot be this answer. It shows as the delivery's last error and,
	// once the worker gives up, as a dead letter (ListDeliveries); the
	// user asks again. What can be known now is still refused now:
	// incomplete Twilio settings (SMS_NOT_CONFIGURED) and the SMS caps.
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.PutCode(ctx, pc); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, text); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "user.phone.set", ActorID: u.ID, SubjectID: u.ID, IP: p.IP})
	})
	if err != nil {
		return err
	}
	s.queued()
	return nil
}

// VerifyPhone checks the texted code and makes its number the user's
// verified phone. If SMS sign-in is on, it follows the new number.
func (s *Service) VerifyPhone(ctx context.Context, p Principal, code Secret) (User, error) {
	const op = "identity.VerifyPhone"
	a, u, err := s.principalUser(ctx, p)
	if err != nil {
		return User{}, err
	}
	pc, err := s.checkCode(ctx, Caller{AppID: a.ID, IP: p.IP}, a, PurposePhone, u.ID, code)
	if err != nil {
		return User{}, err
	}
	var pp pendingPhone
	if err := json.Unmarshal(pc.Payload, &pp); err != nil || pp.Phone == "" {
		return User{}, apperr.Wrap(fmt.Errorf("phone code payload: %v", err), apperr.Internal, op)
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := spendCode(ctx, tx, pc); err != nil {
			return err
		}
		if err := tx.SetUserPhone(ctx, a.ID, u.ID, pp.Phone, true, s.clock()); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "user.phone.verify", ActorID: u.ID, SubjectID: u.ID, IP: p.IP})
	})
	if apperr.Is(err, apperr.Exists) {
		return User{}, apperr.New(apperr.Exists, apperr.ReasonPhoneTaken, "another account verified this phone number").With(op, err)
	}
	if err != nil {
		return User{}, err
	}
	return s.store.GetUser(ctx, a.ID, u.ID)
}

// SetSmsTwoFactor turns SMS sign-in on for a user with a verified phone in
// an app that offers it. Turning it off needs the password or a code, so it
// is DisableTwoFactor's job; enabled=false for a user without SMS sign-in
// changes nothing.
func (s *Service) SetSmsTwoFactor(ctx context.Context, p Principal, enabled bool) (User, error) {
	a, u, err := s.principalUser(ctx, p)
	if err != nil {
		return User{}, err
	}
	switch {
	case !enabled && u.TwoFactor == TwoFactorSMS:
		return User{}, apperr.Field("enabled", "turning SMS sign-in off needs the password or a code: call DisableTwoFactor")
	case !enabled, u.TwoFactor == TwoFactorSMS:
		return u, nil
	case a.Settings.TwoFactor != TwoFactorSMS:
		return User{}, apperr.New(apperr.Precondition, apperr.ReasonTwoFactorDisabled, "this application does not offer SMS sign-in codes")
	case u.TwoFactor != TwoFactorNone:
		return User{}, apperr.New(apperr.Precondition, apperr.ReasonTwoFactorAlreadyEnrolled, "another second factor is on; turn it off first")
	case !u.PhoneVerified || u.Phone == "":
		return User{}, apperr.New(apperr.Precondition, apperr.ReasonPhoneNotVerified, "verify a phone number first (SetPhone, VerifyPhone)")
	}
	if _, err := s.smsRoute(ctx, a, true); err != nil {
		return User{}, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		switched, err := tx.SwitchTwoFactor(ctx, a.ID, u.ID, TwoFactorNone, TwoFactorSMS, s.clock())
		if err != nil {
			return err
		}
		if !switched {
			return apperr.New(apperr.Precondition, apperr.ReasonTwoFactorAlreadyEnrolled, "another second factor is on; turn it off first")
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "user.2fa.enable", ActorID: u.ID, SubjectID: u.ID, IP: p.IP,
			Details: map[string]any{"method": string(TwoFactorSMS)}})
	})
	if err != nil {
		return User{}, err
	}
	return s.store.GetUser(ctx, a.ID, u.ID)
}

// SendTestSMS texts a test message to phone through the app's own Twilio
// account (never the dev outbox: it is a check of the Twilio settings).
func (s *Service) SendTestSMS(ctx context.Context, d Developer, appID, phone string) error {
	m, err := s.member(ctx, d, appID, RoleAdmin)
	if err != nil {
		return err
	}
	if phone, err = NormalizePhone("phone", phone); err != nil {
		return err
	}
	route, err := s.smsRoute(ctx, m.App, false)
	if err != nil {
		return err
	}
	if err := s.smsCaps(ctx, Caller{AppID: m.ID, IP: d.IP}, m.App, phone); err != nil {
		return err
	}
	body := fmt.Sprintf("This is a test message from %s, sent through your Twilio account by CoSync Auth.", m.Name)
	if err := s.deliverSMS(ctx, m.App, route, phone, body); err != nil {
		s.auditFailure(ctx, AuditEvent{AppID: m.ID, Action: "app.sms.test", ActorID: d.ActorID(), SubjectID: m.ID, IP: d.IP, Reason: apperr.ReasonOf(err)})
		return err
	}
	return s.audit(ctx, s.store, AuditEvent{AppID: m.ID, Action: "app.sms.test", ActorID: d.ActorID(), SubjectID: m.ID, IP: d.IP})
}

// smsRoute is how an app's texts go: its own Twilio account, or the dev
// outbox.
type smsRoute struct {
	twilio *SMSAccount // nil: the dev outbox
}

// smsRoute picks where the app's texts go: its Twilio account when the
// settings are complete, else (devOK) the dev outbox when there is one,
// else SMS_NOT_CONFIGURED.
func (s *Service) smsRoute(ctx context.Context, a App, devOK bool) (smsRoute, error) {
	tw := a.Settings.Twilio
	if tw.AccountSID != "" && len(tw.AuthTokenSealed) > 0 && (tw.FromNumber != "" || tw.MessagingServiceSID != "") && s.sms != nil {
		tok, err := s.secrets.Open(ctx, tw.AuthTokenSealed, twilioAD(a.ID))
		if err != nil {
			return smsRoute{}, sealErr("identity.smsRoute", err)
		}
		return smsRoute{twilio: &SMSAccount{SID: tw.AccountSID, AuthToken: string(tok), From: tw.FromNumber, MessagingServiceSID: tw.MessagingServiceSID}}, nil
	}
	if devOK && s.devSMS != nil {
		return smsRoute{}, nil
	}
	return smsRoute{}, apperr.New(apperr.Precondition, apperr.ReasonSMSNotConfigured,
		"this application cannot send text messages: its Twilio settings (account SID, auth token, sender) are incomplete")
}

// smsCaps counts one text against the hourly caps per number, per client
// IP and per app, and refuses it (RATE_LIMITED) past any of them.
func (s *Service) smsCaps(ctx context.Context, c Caller, a App, phone string) error {
	return s.limit(ctx, a.ID,
		byKey(s.rule(a, LimitSMSNumber), phone),
		byKey(s.rule(a, LimitSMSIP), c.IP),
		byKey(s.rule(a, LimitSMSApp), "all"))
}

// text renders the app's SMS template in locale into a queued text of
// code to to, valid until ttl from now: the worker gives up on it then.
func (s *Service) text(ctx context.Context, a App, locale, to, code string, ttl time.Duration) (Delivery, error) {
	r, err := s.render(ctx, a, locale, templates.KindSMS, templates.Vars{AppName: a.Name, Handle: to, Code: code, ExpiresIn: humanDuration(ttl)})
	if err != nil {
		return Delivery{}, err
	}
	d := s.delivery(a, ChannelSMS, to, Delivery{Text: r.Text})
	d.ExpiresAt = d.CreatedAt.Add(ttl)
	return d, nil
}

// DeliverSMS sends a queued text for appID (the send queue's worker calls
// it): through the app's Twilio account as its settings are now, or into
// the dev outbox. A message Twilio refuses is Invalid (retrying cannot
// help: the worker gives up at once); refused credentials and incomplete
// settings are Precondition and a network failure Unavailable, which the
// worker retries, so a developer who fixes the settings in time gets the
// text through.
func (s *Service) DeliverSMS(ctx context.Context, appID, to, body string) error {
	const op = "identity.DeliverSMS"
	a, err := s.store.GetApp(ctx, appID)
	if err != nil {
		return err
	}
	route, err := s.smsRoute(ctx, a, true)
	if err != nil {
		return err
	}
	err = s.deliverSMS(ctx, a, route, to, body)
	if apperr.KindOf(err) == apperr.Precondition && apperr.ReasonOf(err) == apperr.ReasonSMSDeliveryFailed {
		return apperr.Wrap(err, apperr.Invalid, op)
	}
	return err
}

// deliverSMS sends body and maps Twilio's failures: refused credentials
// are the app's settings (SMS_NOT_CONFIGURED), a refused message is
// SMS_DELIVERY_FAILED, anything else may pass (Unavailable).
func (s *Service) deliverSMS(ctx context.Context, a App, route smsRoute, to, body string) error {
	const op = "identity.deliverSMS"
	if route.twilio == nil {
		if err := s.devSMS.SendSMS(ctx, a.ID, to, body); err != nil {
			return apperr.Wrap(err, apperr.Internal, op)
		}
		return nil
	}
	_, err := s.sms.Send(ctx, *route.twilio, to, body)
	if err == nil {
		return nil
	}
	var se *SMSError
	if !errors.As(err, &se) {
		return apperr.New(apperr.Unavailable, apperr.ReasonSMSDeliveryFailed, "the text message could not be sent; try again later").With(op, err)
	}
	switch se.Kind {
	case SMSBadCredentials:
		s.log.WarnContext(ctx, "Twilio refused the application's credentials", "app_id", a.ID, "err", err)
		return apperr.New(apperr.Precondition, apperr.ReasonSMSNotConfigured,
			"the application's Twilio account refused its credentials; the developer must fix the Twilio settings").With(op, err)
	case SMSRejected:
		return apperr.New(apperr.Precondition, apperr.ReasonSMSDeliveryFailed,
			fmt.Sprintf("Twilio refused the message (error %d)", se.Code)).With(op, err)
	}
	return apperr.New(apperr.Unavailable, apperr.ReasonSMSDeliveryFailed, "the text message could not be sent; try again later").With(op, err)
}

// phoneHint is the end of a number, to tell a user where a code went.
func phoneHint(phone string) string {
	if len(phone) <= 4 {
		return phone
	}
	return phone[len(phone)-4:]
}

// twilioAD binds a sealed Twilio auth token to its app.
func twilioAD(appID string) []byte {
	return []byte("cosync-auth twilio auth token v1\x00" + appID)
}

var (
	twilioAccountSID = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	twilioServiceSID = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	twilioToken      = regexp.MustCompile(`^[A-Za-z0-9]{16,128}$`)
)

// CheckTwilio checks the shape of Twilio settings and of a new auth token
// (Twilio's SIDs are two letters and 32 hex digits; tokens are
// alphanumeric, which twilio-go insists on too).
func CheckTwilio(tw TwilioSettings, tok Secret) error {
	var vs []apperr.Violation
	if tw.AccountSID != "" && !twilioAccountSID.MatchString(tw.AccountSID) {
		vs = append(vs, apperr.Violation{Field: "settings.twilio.account_sid", Description: "must be AC followed by 32 hex digits"})
	}
	if tw.FromNumber != "" && !e164.MatchString(tw.FromNumber) {
		vs = append(vs, apperr.Violation{Field: "settings.twilio.from_number", Description: "must be a phone number in E.164 form, e.g. +14155550100"})
	}
	if tw.MessagingServiceSID != "" && !twilioServiceSID.MatchString(tw.MessagingServiceSID) {
		vs = append(vs, apperr.Violation{Field: "settings.twilio.messaging_service_sid", Description: "must be MG followed by 32 hex digits"})
	}
	if tok != "" && !twilioToken.MatchString(tok.Reveal()) {
		vs = append(vs, apperr.Violation{Field: "settings.twilio.auth_token", Description: "must be the account's auth token: 16 to 128 letters and digits"})
	}
	return apperr.Fields(apperr.ReasonInvalidArgument, vs)
}
