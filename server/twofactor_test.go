package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	potp "github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/uptrace/bun/driver/sqliteshim"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/notify"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// tfApp creates an app whose users give a name at signup, with the given
// second factor and, if twilio is set, Twilio settings.
func (e *env) tfApp(tb testing.TB, dev string, method authv1.TwoFactorMethod, twilio *adminv1.TwilioSettings) string {
	tb.Helper()
	res, err := e.admin.CreateApp(as(context.Background(), "", dev), &adminv1.CreateAppRequest{
		Name: "Field Notes",
		Settings: &adminv1.AppSettings{
			TwoFactor:          method,
			AuthenticatorLabel: "Field Notes Auth",
			Twilio:             twilio,
			SignupMetadataFields: []*authv1.MetadataField{
				{Path: "user_data.name", Name: "Name", Required: true, Type: authv1.MetadataFieldType_METADATA_FIELD_TYPE_STRING},
			},
		},
	})
	if err != nil {
		tb.Fatalf("CreateApp(two factor %v) = %v", method, err)
	}
	return res.GetApp().GetId()
}

// tfOutbox returns the newest outbox message on channel to `to`.
func (e *env) tfOutbox(tb testing.TB, dev, app, channel, to string) *adminv1.OutboxMessage {
	tb.Helper()
	res, err := e.admin.ListOutbox(as(context.Background(), "", dev), &adminv1.ListOutboxRequest{AppId: app})
	if err != nil {
		tb.Fatalf("ListOutbox = %v", err)
	}
	for _, m := range res.GetMessages() {
		if m.GetChannel() == channel && m.GetTo() == to {
			return m
		}
	}
	tb.Fatalf("no %s to %s in the outbox", channel, to)
	return nil
}

// totpAt is the authenticator code of secret at t.
func totpAt(tb testing.TB, secret string, t time.Time) string {
	tb.Helper()
	c, err := totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: 30, Digits: potp.DigitsSix, Algorithm: potp.AlgorithmSHA1})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// decodeQR reads the text of a QR code PNG. The image is a pure barcode
// (upright, unskewed), and gozxing is told so: its finder-pattern sampler
// misreads about 3 in 1000 of these clean codes (ZBar reads them all),
// while its pure-barcode reader reads every one.
func decodeQR(tb testing.TB, b []byte) string {
	tb.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("the QR code is not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		tb.Fatalf("the QR code does not decode: %v", err)
	}
	return res.GetText()
}

// enrollTOTP turns an authenticator on for the user of access and returns
// its secret and recovery codes.
func (e *env) enrollTOTP(tb testing.TB, app, access string) (string, []string) {
	tb.Helper()
	ctx := as(context.Background(), app, access)
	begin, err := e.auth.BeginTotpEnrollment(ctx, &authv1.BeginTotpEnrollmentRequest{})
	if err != nil {
		tb.Fatalf("BeginTotpEnrollment = %v", err)
	}
	res, err := e.auth.ConfirmTotpEnrollment(ctx, &authv1.ConfirmTotpEnrollmentRequest{Code: totpAt(tb, begin.GetSecret(), e.clock.Now())})
	if err != nil {
		tb.Fatalf("ConfirmTotpEnrollment = %v", err)
	}
	// The confirming code's step is spent; the next login needs the next one.
	e.clock.Advance(30 * time.Second)
	return begin.GetSecret(), res.GetRecoveryCodes()
}

// challenge logs in and returns the challenge Login answered with.
func (e *env) challenge(tb testing.TB, app, handle string) *authv1.Challenge {
	tb.Helper()
	res, err := e.auth.Login(as(context.Background(), app, ""), &authv1.LoginRequest{Handle: handle, Password: "long-enough-pw"})
	if err != nil {
		tb.Fatalf("Login(%q) = %v", handle, err)
	}
	if res.GetChallenge() == nil {
		tb.Fatalf("Login(%q) answered a session, want a challenge", handle)
	}
	return res.GetChallenge()
}

func (e *env) completeLogin(app, token, code string) (*authv1.Session, error) {
	res, err := e.auth.CompleteLogin(as(context.Background(), app, ""), &authv1.CompleteLoginRequest{LoginToken: token, Code: code})
	return res.GetSession(), err
}

var qrLinkRE = regexp.MustCompile(`https?://\S+/totp-qr\?token=[A-Za-z0-9_%-]+`)

// TestTOTP is the authenticator journey: enroll (the QR decodes to the
// URI, in the answer and behind the mailed link), log in with a code, with
// a recovery code (then spent), refuse replays, disable.
func TestTOTP(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP, nil)
		e.update(t, dev, app, &adminv1.AppSettings{TotpQrMail: true}, "settings.totp_qr_mail") // the CosyncJWT-style QR mail, by choice
		sess := e.signUp(t, dev, app, "ann@example.com")
		uctx := as(ctx, app, sess.GetAccessToken())

		begin, err := e.auth.BeginTotpEnrollment(uctx, &authv1.BeginTotpEnrollmentRequest{})
		if err != nil {
			t.Fatalf("BeginTotpEnrollment = %v", err)
		}
		if got := decodeQR(t, begin.GetQrPng()); got != begin.GetUri() {
			t.Errorf("the QR code decodes to %q, want the URI %q", got, begin.GetUri())
		}
		key, err := potp.NewKeyFromURL(begin.GetUri())
		if err != nil {
			t.Fatalf("URI %q: %v", begin.GetUri(), err)
		}
		if key.Issuer() != "Field Notes Auth" || key.AccountName() != "ann@example.com" || key.Secret() != begin.GetSecret() ||
			key.Period() != 30 || key.Digits() != potp.DigitsSix || key.Type() != "totp" {
			t.Errorf("URI %q: issuer %q, account %q, secret %q, period %d, digits %v", begin.GetUri(), key.Issuer(), key.AccountName(), key.Secret(), key.Period(), key.Digits())
		}

		// The QR mail comes from the app's template and links to the same image.
		mail := e.tfOutbox(t, dev, app, notify.ChannelEmail, "ann@example.com")
		link := qrLinkRE.FindString(mail.GetText())
		if !strings.Contains(mail.GetSubject(), "two-step verification") || link == "" || !strings.Contains(mail.GetText(), begin.GetSecret()) {
			t.Fatalf("QR mail = %q / %q, want the template with the key and a QR link", mail.GetSubject(), mail.GetText())
		}
		if !strings.HasPrefix(link, e.url+"/apps/"+app+"/") {
			t.Errorf("QR link %q is not under the app on this server", link)
		}
		if got := decodeQR(t, e.get(t, link, http.StatusOK)); got != begin.GetUri() {
			t.Errorf("the mailed QR decodes to %q, want %q", got, begin.GetUri())
		}

		// Nothing is active before a code proves the enrollment.
		if res, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "long-enough-pw"}); err != nil || res.GetSession() == nil {
			t.Fatalf("Login before confirming = %v, %v; want a session", res, err)
		}
		now := e.clock.Now()
		wrong := fmt.Sprintf("%06d", (mustAtoi(t, totpAt(t, begin.GetSecret(), now))+1)%1000000)
		_, err = e.auth.ConfirmTotpEnrollment(uctx, &authv1.ConfirmTotpEnrollmentRequest{Code: wrong})
		wantReason(t, "ConfirmTotpEnrollment(wrong code)", err, connect.CodeInvalidArgument, apperr.ReasonInvalidCode, "code")
		confirmCode := totpAt(t, begin.GetSecret(), now)
		conf, err := e.auth.ConfirmTotpEnrollment(uctx, &authv1.ConfirmTotpEnrollmentRequest{Code: confirmCode})
		if err != nil {
			t.Fatalf("ConfirmTotpEnrollment = %v", err)
		}
		rc := conf.GetRecoveryCodes()
		if len(rc) != 10 || conf.GetUser().GetTwoFactor() != authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP {
			t.Fatalf("ConfirmTotpEnrollment = %d recovery codes, factor %v; want 10, TOTP", len(rc), conf.GetUser().GetTwoFactor())
		}
		for _, c := range rc {
			if !regexp.MustCompile(`^[a-z2-7]{5}-[a-z2-7]{5}$`).MatchString(c) {
				t.Errorf("recovery code %q is not xxxxx-xxxxx", c)
			}
		}
		// The mailed link dies with the confirmation.
		e.get(t, link, http.StatusNotFound)
		_, err = e.auth.BeginTotpEnrollment(uctx, &authv1.BeginTotpEnrollmentRequest{})
		wantReason(t, "BeginTotpEnrollment when enrolled", err, connect.CodeFailedPrecondition, apperr.ReasonTwoFactorAlreadyEnrolled)

		// Login now answers a challenge; the confirming code cannot be replayed.
		ch := e.challenge(t, app, "ann@example.com")
		if ch.GetMethod() != authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP || ch.GetLoginToken() == "" ||
			!ch.GetExpiresAt().AsTime().Equal(e.clock.Now().Truncate(time.Microsecond).Add(5*time.Minute)) {
			t.Errorf("challenge = %v, want TOTP expiring in 5 minutes", ch)
		}
		_, err = e.completeLogin(app, ch.GetLoginToken(), confirmCode)
		wantReason(t, "CompleteLogin(replayed confirming code)", err, connect.CodeInvalidArgument, apperr.ReasonInvalidCode, "code")
		e.clock.Advance(30 * time.Second)
		code := totpAt(t, begin.GetSecret(), e.clock.Now())
		s2, err := e.completeLogin(app, ch.GetLoginToken(), code)
		if err != nil {
			t.Fatalf("CompleteLogin(current code) = %v", err)
		}
		if _, err := e.auth.GetUser(as(ctx, app, s2.GetAccessToken()), &authv1.GetUserRequest{}); err != nil {
			t.Fatalf("GetUser with the second-factor session = %v", err)
		}
		// The same code in a new challenge is a replay; the used challenge is gone.
		ch2 := e.challenge(t, app, "ann@example.com")
		_, err = e.completeLogin(app, ch2.GetLoginToken(), code)
		wantReason(t, "CompleteLogin(replayed code)", err, connect.CodeInvalidArgument, apperr.ReasonInvalidCode, "code")
		_, err = e.completeLogin(app, ch.GetLoginToken(), code)
		wantReason(t, "CompleteLogin(used challenge)", err, connect.CodeUnauthenticated, apperr.ReasonLoginTokenInvalid)

		// A recovery code works once.
		if _, err := e.completeLogin(app, ch2.GetLoginToken(), rc[0]); err != nil {
			t.Fatalf("CompleteLogin(recovery code) = %v", err)
		}
		ch3 := e.challenge(t, app, "ann@example.com")
		_, err = e.completeLogin(app, ch3.GetLoginToken(), rc[0])
		wantReason(t, "CompleteLogin(spent recovery code)", err, connect.CodeInvalidArgument, apperr.ReasonInvalidCode, "code")
		if _, err := e.completeLogin(app, ch3.GetLoginToken(), rc[1]); err != nil {
			t.Fatalf("CompleteLogin(another recovery code) = %v", err)
		}

		// Disabling needs the password or a current code.
		_, err = e.auth.DisableTwoFactor(uctx, &authv1.DisableTwoFactorRequest{})
		wantReason(t, "DisableTwoFactor()", err, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "password")
		_, err = e.auth.DisableTwoFactor(uctx, &authv1.DisableTwoFactorRequest{Password: "not-the-password"})
		wantReason(t, "DisableTwoFactor(wrong password)", err, connect.CodeInvalidArgument, apperr.ReasonInvalidCredentials, "password")
		_, err = e.auth.DisableTwoFactor(uctx, &authv1.DisableTwoFactorRequest{Code: wrong})
		wantReason(t, "DisableTwoFactor(wrong code)", err, connect.CodeInvalidArgument, apperr.ReasonInvalidCode, "code")
		e.clock.Advance(30 * time.Second)
		off, err := e.auth.DisableTwoFactor(uctx, &authv1.DisableTwoFactorRequest{Code: totpAt(t, begin.GetSecret(), e.clock.Now())})
		if err != nil {
			t.Fatalf("DisableTwoFactor(current code) = %v", err)
		}
		if off.GetUser().GetTwoFactor() != authv1.TwoFactorMethod_TWO_FACTOR_METHOD_NONE {
			t.Errorf("after DisableTwoFactor the factor is %v", off.GetUser().GetTwoFactor())
		}
		if res, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "long-enough-pw"}); err != nil || res.GetSession() == nil {
			t.Errorf("Login after disabling = %v, %v; want a session", res, err)
		}
		_, err = e.auth.DisableTwoFactor(uctx, &authv1.DisableTwoFactorRequest{Password: "long-enough-pw"})
		wantReason(t, "DisableTwoFactor when off", err, connect.CodeFailedPrecondition, apperr.ReasonTwoFactorNotEnrolled)

		// Re-enrolling makes a new secret and new recovery codes; old ones are dead.
		secret2, rc2 := e.enrollTOTP(t, app, sess.GetAccessToken())
		if secret2 == begin.GetSecret() || slices.Contains(rc2, rc[2]) {
			t.Error("re-enrolling reused the old secret or recovery codes")
		}
		ch4 := e.challenge(t, app, "ann@example.com")
		_, err = e.completeLogin(app, ch4.GetLoginToken(), rc[2])
		wantReason(t, "CompleteLogin(recovery code of the old enrollment)", err, connect.CodeInvalidArgument, apperr.ReasonInvalidCode, "code")
		// Disabling with the password works too.
		if _, err := e.auth.DisableTwoFactor(uctx, &authv1.DisableTwoFactorRequest{Password: "long-enough-pw"}); err != nil {
			t.Errorf("DisableTwoFactor(password) = %v", err)
		}
	})
}

// get fetches url and returns the body, failing unless the status is want.
func (e *env) get(tb testing.TB, url string, want int) []byte {
	tb.Helper()
	res, err := e.http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		tb.Fatalf("GET %s = %d %q, want %d", url, res.StatusCode, b, want)
	}
	if want == http.StatusOK && (res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Content-Type") != "image/png") {
		tb.Errorf("GET %s: Cache-Control %q, Content-Type %q; want no-store, image/png", url, res.Header.Get("Cache-Control"), res.Header.Get("Content-Type"))
	}
	return b
}

// TestChallengeLimits: a challenge checks five codes, however many arrive
// at once; the sixth is refused even when right; challenges expire after
// five minutes; a made-up token is refused; one right code signs in once.
func TestChallengeLimits(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		dev := e.developer(t, "dev@example.com")
		app := e.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP, nil)
		sess := e.signUp(t, dev, app, "bo@example.com")
		secret, _ := e.enrollTOTP(t, app, sess.GetAccessToken())
		right := func() string { return totpAt(t, secret, e.clock.Now()) }
		wrongCode := func() string { return fmt.Sprintf("%06d", (mustAtoi(t, right())+500000)%1000000) }

		ch := e.challenge(t, app, "bo@example.com")
		var mu sync.Mutex
		counts := map[apperr.Reason]int{}
		var wg sync.WaitGroup
		for range 12 {
			wg.Go(func() {
				_, err := e.completeLogin(app, ch.GetLoginToken(), wrongCode())
				_, r := reason(err)
				mu.Lock()
				counts[r]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if counts[apperr.ReasonInvalidCode] != 5 || counts[apperr.ReasonTooManyAttempts] != 7 {
			t.Errorf("12 concurrent wrong codes answered %v; want 5 INVALID_CODE and 7 TOO_MANY_ATTEMPTS", counts)
		}
		_, err := e.completeLogin(app, ch.GetLoginToken(), right())
		wantReason(t, "CompleteLogin(right code after five wrong)", err, connect.CodeFailedPrecondition, apperr.ReasonTooManyAttempts)

		ch = e.challenge(t, app, "bo@example.com")
		e.clock.Advance(5*time.Minute + time.Second)
		_, err = e.completeLogin(app, ch.GetLoginToken(), right())
		wantReason(t, "CompleteLogin(expired challenge)", err, connect.CodeUnauthenticated, apperr.ReasonLoginTokenExpired)
		_, err = e.completeLogin(app, "made-up-token", right())
		wantReason(t, "CompleteLogin(made-up token)", err, connect.CodeUnauthenticated, apperr.ReasonLoginTokenInvalid)
		_, err = e.completeLogin(app, ch.GetLoginToken(), "12345")
		if c, _ := reason(err); c != connect.CodeInvalidArgument || !slices.Contains(fields(err), "code") {
			t.Errorf("CompleteLogin(5-digit code) = %v, want InvalidArgument naming code", err)
		}

		// The right code sent by two challenges at once signs in once.
		e.clock.Advance(30 * time.Second)
		chs := []*authv1.Challenge{e.challenge(t, app, "bo@example.com"), e.challenge(t, app, "bo@example.com"), e.challenge(t, app, "bo@example.com")}
		code := right()
		var wins, replays int
		for i := range chs {
			wg.Go(func() {
				_, err := e.completeLogin(app, chs[i].GetLoginToken(), code)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					wins++
				} else if _, r := reason(err); r == apperr.ReasonInvalidCode {
					replays++
				}
			})
		}
		wg.Wait()
		if wins != 1 || replays != len(chs)-1 {
			t.Errorf("one code in %d concurrent challenges: %d sessions, %d INVALID_CODE; want 1 and %d", len(chs), wins, replays, len(chs)-1)
		}
	})
}

// TestTOTPSecretBoundToUser: a sealed secret copied onto another user's row
// does not open, so the copy never verifies a code.
func TestTOTPSecretBoundToUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.SQLite(t))
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	app := e.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP, nil)
	ann := e.signUp(t, dev, app, "ann@example.com")
	cy := e.signUp(t, dev, app, "cy@example.com")
	secret, _ := e.enrollTOTP(t, app, ann.GetAccessToken())
	annRow, err := e.p.store.GetTotp(ctx, app, ann.GetUser().GetId())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(annRow.SecretSealed, []byte(secret)) {
		t.Fatal("the TOTP secret is stored in the clear")
	}
	// Cy's pending enrollment gets Ann's ciphertext.
	if _, err := e.auth.BeginTotpEnrollment(as(ctx, app, cy.GetAccessToken()), &authv1.BeginTotpEnrollmentRequest{}); err != nil {
		t.Fatal(err)
	}
	stolen := annRow
	stolen.UserID, stolen.ConfirmedAt, stolen.QRTokenHash = cy.GetUser().GetId(), time.Time{}, ""
	if err := e.p.store.PutPendingTotp(ctx, stolen); err != nil {
		t.Fatal(err)
	}
	_, err = e.auth.ConfirmTotpEnrollment(as(ctx, app, cy.GetAccessToken()), &authv1.ConfirmTotpEnrollmentRequest{Code: totpAt(t, secret, e.clock.Now())})
	if err == nil {
		t.Fatal("ConfirmTotpEnrollment accepted a code of a secret copied from another user")
	}
	if c, _ := reason(err); c != connect.CodeInternal {
		t.Errorf("ConfirmTotpEnrollment over a copied secret = %v, want Internal (it does not decrypt)", err)
	}
}

// TestResetUserTwoFactor: a developer turns a user's factor off (audited),
// after which the password alone signs in; other developers cannot.
func TestResetUserTwoFactor(t *testing.T) {
	t.Parallel()
	st, dbPath := sqliteFile(t)
	e := newEnv(t, st)
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	other := e.developer(t, "other@example.com")
	app := e.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP, nil)
	sess := e.signUp(t, dev, app, "di@example.com")
	uid := sess.GetUser().GetId()
	_, rc := e.enrollTOTP(t, app, sess.GetAccessToken())

	tests := []struct {
		name       string
		dev        string
		app, user  string
		code       connect.Code
		wantReason apperr.Reason
	}{
		{"another developer", other, app, uid, connect.CodeNotFound, apperr.ReasonAppNotFound},
		{"unknown user", dev, app, "no-such-user", connect.CodeNotFound, apperr.ReasonNotFound},
		{"no app id", dev, "", uid, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument}, // protovalidate, through rpc.Validation
	}
	for _, tc := range tests {
		_, err := e.admin.ResetUserTwoFactor(as(ctx, "", tc.dev), &adminv1.ResetUserTwoFactorRequest{AppId: tc.app, UserId: tc.user})
		wantReason(t, "ResetUserTwoFactor("+tc.name+")", err, tc.code, tc.wantReason)
	}
	e.challenge(t, app, "di@example.com") // still on after the refused resets

	res, err := e.admin.ResetUserTwoFactor(as(ctx, "", dev), &adminv1.ResetUserTwoFactorRequest{AppId: app, UserId: uid})
	if err != nil {
		t.Fatalf("ResetUserTwoFactor = %v", err)
	}
	if res.GetUser().GetTwoFactor() != authv1.TwoFactorMethod_TWO_FACTOR_METHOD_NONE {
		t.Errorf("after the reset the factor is %v", res.GetUser().GetTwoFactor())
	}
	if e.login(t, app, "di@example.com", "long-enough-pw") == "" {
		t.Error("Login after the reset gave no session")
	}
	if n, err := e.p.store.CountRecoveryCodes(ctx, app, uid); err != nil || n != 0 || len(rc) != 10 {
		t.Errorf("after the reset %d recovery codes are left (%v)", n, err)
	}
	if n := audited(t, dbPath, app, "user.2fa.reset", identity.OutcomeSuccess); n != 1 {
		t.Errorf("the reset wrote %d user.2fa.reset audit events, want 1", n)
	}
}

// sqliteFile opens a fresh, migrated SQLite store at a path the test knows,
// so it can read tables the API does not show (the audit log).
func sqliteFile(tb testing.TB) (*store.Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "cosync.db")
	st, err := store.Open(context.Background(), "sqlite://"+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return st, path
}

// audited counts the app's audit events for action with outcome, read
// straight from the database file.
func audited(tb testing.TB, path, app, action, outcome string) int {
	tb.Helper()
	db, err := sql.Open(sqliteshim.ShimName, "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var n int
	err = db.QueryRow("SELECT count(*) FROM audit_events WHERE app_id = ? AND action = ? AND outcome = ?", app, action, outcome).Scan(&n)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestTwoFactorBadInput: malformed input is InvalidArgument naming the
// field and changes nothing.
func TestTwoFactorBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.SQLite(t))
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	app := e.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_SMS, nil)
	sess := e.signUp(t, dev, app, "ed@example.com")
	uctx := as(ctx, app, sess.GetAccessToken())
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"CompleteLogin without a token", func() error {
			_, err := e.completeLogin(app, "", "123456")
			return err
		}, "login_token"},
		{"CompleteLogin with letters", func() error {
			_, err := e.completeLogin(app, "tok", "12345a")
			return err
		}, "code"},
		{"SetPhone without +", func() error {
			_, err := e.auth.SetPhone(uctx, &authv1.SetPhoneRequest{Phone: "4155550100"})
			return err
		}, "phone"},
		{"SetPhone with no such number", func() error {
			_, err := e.auth.SetPhone(uctx, &authv1.SetPhoneRequest{Phone: "+99912345678"})
			return err
		}, "phone"},
		{"VerifyPhone with 5 digits", func() error {
			_, err := e.auth.VerifyPhone(uctx, &authv1.VerifyPhoneRequest{Code: "12345"})
			return err
		}, "code"},
		{"ConfirmTotpEnrollment with a recovery code", func() error {
			_, err := e.auth.ConfirmTotpEnrollment(uctx, &authv1.ConfirmTotpEnrollmentRequest{Code: "abcde-fghij"})
			return err
		}, "code"},
		{"DisableTwoFactor with a bad code", func() error {
			_, err := e.auth.DisableTwoFactor(uctx, &authv1.DisableTwoFactorRequest{Code: "1234"})
			return err
		}, "code"},
		{"SendTestSms to no such number", func() error {
			_, err := e.admin.SendTestSms(as(ctx, "", dev), &adminv1.SendTestSmsRequest{AppId: app, Phone: "+99912345678"})
			return err
		}, "phone"},
		{"UpdateApp with a bad account SID", func() error {
			_, err := e.admin.UpdateApp(as(ctx, "", dev), tfTwilioUpdate(app, &adminv1.TwilioSettings{AccountSid: "XX123"}, "settings.twilio.account_sid"))
			return err
		}, "settings.twilio.account_sid"},
		{"UpdateApp with a bad sender", func() error {
			_, err := e.admin.UpdateApp(as(ctx, "", dev), tfTwilioUpdate(app, &adminv1.TwilioSettings{FromNumber: "415-555-0100"}, "settings.twilio.from_number"))
			return err
		}, "settings.twilio.from_number"},
		{"UpdateApp with a bad token", func() error {
			_, err := e.admin.UpdateApp(as(ctx, "", dev), tfTwilioUpdate(app, &adminv1.TwilioSettings{AuthToken: "not a token!"}, "settings.twilio.auth_token"))
			return err
		}, "settings.twilio.auth_token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if c, _ := reason(err); c != connect.CodeInvalidArgument || !slices.Contains(fields(err), tc.field) {
				t.Errorf("%s = %v (fields %v), want InvalidArgument naming %q", tc.name, err, fields(err), tc.field)
			}
		})
	}
	u, err := e.auth.GetUser(uctx, &authv1.GetUserRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if u.GetUser().GetPhone() != "" || u.GetUser().GetTwoFactor() != authv1.TwoFactorMethod_TWO_FACTOR_METHOD_NONE {
		t.Errorf("bad input changed the user: %v", u.GetUser())
	}
	app1, err := e.admin.GetApp(as(ctx, "", dev), &adminv1.GetAppRequest{AppId: app})
	if err != nil {
		t.Fatal(err)
	}
	if tw := app1.GetApp().GetSettings().GetTwilio(); tw.GetAccountSid() != "" || tw.GetAuthToken() != "" || tw.GetFromNumber() != "" {
		t.Errorf("bad input changed the Twilio settings: %v", tw)
	}
}

func tfTwilioUpdate(app string, tw *adminv1.TwilioSettings, paths ...string) *adminv1.UpdateAppRequest {
	return &adminv1.UpdateAppRequest{AppId: app, Settings: &adminv1.AppSettings{Twilio: tw}, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}}
}

// TestTOTPQRLink: the mailed QR link works for an hour while its
// enrollment is pending; a made-up or stale link is a plain 404.
func TestTOTPQRLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.SQLite(t))
	dev := e.developer(t, "dev@example.com")
	app := e.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP, nil)
	e.update(t, dev, app, &adminv1.AppSettings{TotpQrMail: true}, "settings.totp_qr_mail")
	sess := e.signUp(t, dev, app, "fay@example.com")
	uctx := as(context.Background(), app, sess.GetAccessToken())
	first, err := e.auth.BeginTotpEnrollment(uctx, &authv1.BeginTotpEnrollmentRequest{})
	if err != nil {
		t.Fatal(err)
	}
	firstLink := qrLinkRE.FindString(e.tfOutbox(t, dev, app, notify.ChannelEmail, "fay@example.com").GetText())
	if got := decodeQR(t, e.get(t, firstLink, http.StatusOK)); got != first.GetUri() {
		t.Fatalf("the QR link decodes to %q, want %q", got, first.GetUri())
	}
	// Beginning again replaces the enrollment, and with it the link.
	second, err := e.auth.BeginTotpEnrollment(uctx, &authv1.BeginTotpEnrollmentRequest{})
	if err != nil {
		t.Fatal(err)
	}
	secondLink := qrLinkRE.FindString(e.tfOutbox(t, dev, app, notify.ChannelEmail, "fay@example.com").GetText())
	if secondLink == firstLink || second.GetSecret() == first.GetSecret() {
		t.Fatal("a second Begin kept the first secret or link")
	}
	e.get(t, firstLink, http.StatusNotFound)
	e.clock.Advance(59 * time.Minute)
	if got := decodeQR(t, e.get(t, secondLink, http.StatusOK)); got != second.GetUri() {
		t.Errorf("after 59 minutes the QR link decodes to %q, want %q", got, second.GetUri())
	}
	e.clock.Advance(2 * time.Minute)
	e.get(t, secondLink, http.StatusNotFound)
	e.get(t, e.url+"/apps/"+app+"/totp-qr?token=made-up", http.StatusNotFound)
	e.get(t, e.url+"/apps/"+app+"/totp-qr", http.StatusNotFound)
}
