package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

func TestTotpSecrets(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createApp(t, s, "app2")
		createUser(t, s, newUser("app1", "u1", "ann@example.com", ""))
		createUser(t, s, newUser("app2", "u2", "bob@example.com", ""))

		pending := identity.TotpSecret{AppID: "app1", UserID: "u1", SecretSealed: []byte("sealed-1"), QRTokenHash: "qr1", CreatedAt: t0}
		noErr(t, "PutPendingTotp", s.PutPendingTotp(ctx, pending))
		got, err := s.GetTotp(ctx, "app1", "u1")
		noErr(t, "GetTotp", err)
		equal(t, "GetTotp", got, pending)
		if !got.Pending() {
			t.Error("a new enrollment is not pending")
		}
		got, err = s.FindPendingTotpByQR(ctx, "app1", "qr1")
		noErr(t, "FindPendingTotpByQR", err)
		equal(t, "FindPendingTotpByQR", got, pending)

		// A second Begin replaces the pending enrollment.
		again := pending
		again.SecretSealed, again.QRTokenHash, again.CreatedAt = []byte("sealed-2"), "qr2", t0.Add(time.Minute)
		noErr(t, "PutPendingTotp(again)", s.PutPendingTotp(ctx, again))
		got, err = s.GetTotp(ctx, "app1", "u1")
		noErr(t, "GetTotp(again)", err)
		equal(t, "GetTotp(again)", got, again)

		// Confirming the replaced secret fails; the current one works once.
		ok, err := s.ConfirmTotp(ctx, "app1", "u1", []byte("sealed-1"), 100, t0)
		noErr(t, "ConfirmTotp(replaced)", err)
		if ok {
			t.Error("ConfirmTotp confirmed a replaced secret")
		}
		n := race(t, 8, func() (bool, error) {
			return s.ConfirmTotp(ctx, "app1", "u1", []byte("sealed-2"), 100, t0.Add(2*time.Minute))
		})
		if n != 1 {
			t.Errorf("8 concurrent ConfirmTotp: %d won, want 1", n)
		}
		got, err = s.GetTotp(ctx, "app1", "u1")
		noErr(t, "GetTotp(confirmed)", err)
		if got.Pending() || got.LastStep != 100 || got.QRTokenHash != "" || !got.ConfirmedAt.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("confirmed secret = %+v", got)
		}

		// A confirmed secret is not replaced by a new Begin.
		err = s.PutPendingTotp(ctx, identity.TotpSecret{AppID: "app1", UserID: "u1", SecretSealed: []byte("x"), QRTokenHash: "qr3", CreatedAt: t0})
		wantKind(t, "PutPendingTotp over a confirmed secret", err, apperr.Exists)

		// Steps only move forward, and one racer wins each.
		for _, tc := range []struct {
			step int64
			want bool
		}{{99, false}, {100, false}, {101, true}, {101, false}, {103, true}} {
			ok, err := s.UseTotpStep(ctx, "app1", "u1", tc.step)
			noErr(t, "UseTotpStep", err)
			if ok != tc.want {
				t.Errorf("UseTotpStep(%d) = %v, want %v", tc.step, ok, tc.want)
			}
		}
		if n := race(t, 8, func() (bool, error) { return s.UseTotpStep(ctx, "app1", "u1", 104) }); n != 1 {
			t.Errorf("8 concurrent UseTotpStep(104): %d won, want 1", n)
		}

		for name, err := range map[string]error{
			"GetTotp(other app)":             second(s.GetTotp(ctx, "app2", "u1")),
			"GetTotp(no secret)":             second(s.GetTotp(ctx, "app2", "u2")),
			"FindPendingTotpByQR(confirmed)": second(s.FindPendingTotpByQR(ctx, "app1", "qr2")),
			"PutPendingTotp(no such user)":   s.PutPendingTotp(ctx, identity.TotpSecret{AppID: "app1", UserID: "nope", SecretSealed: []byte("x"), CreatedAt: t0}),
		} {
			wantKind(t, name, err, apperr.NotFound)
		}
		if ok, err := s.UseTotpStep(ctx, "app2", "u1", 500); err != nil || ok {
			t.Errorf("UseTotpStep(other app) = %v, %v; want false", ok, err)
		}
		// A pending row of another app's user cannot be overwritten through app1.
		noErr(t, "PutPendingTotp(app2)", s.PutPendingTotp(ctx, identity.TotpSecret{AppID: "app2", UserID: "u2", SecretSealed: []byte("b"), CreatedAt: t0}))
		err = s.PutPendingTotp(ctx, identity.TotpSecret{AppID: "app1", UserID: "u2", SecretSealed: []byte("evil"), CreatedAt: t0})
		if err == nil {
			t.Error("PutPendingTotp replaced another app's row")
		}
		got, err = s.GetTotp(ctx, "app2", "u2")
		noErr(t, "GetTotp(app2)", err)
		if string(got.SecretSealed) != "b" {
			t.Errorf("app2's secret became %q", got.SecretSealed)
		}
	})
}

func TestRecoveryCodesAndLoginTokens(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createUser(t, s, newUser("app1", "u1", "ann@example.com", ""))
		createUser(t, s, newUser("app1", "u2", "bob@example.com", ""))

		hashes := make([]string, 10)
		for i := range hashes {
			hashes[i] = fmt.Sprintf("h%d", i)
		}
		noErr(t, "PutRecoveryCodes", s.PutRecoveryCodes(ctx, "app1", "u1", hashes, t0))
		noErr(t, "PutRecoveryCodes(u2)", s.PutRecoveryCodes(ctx, "app1", "u2", hashes[:2], t0))
		if n, err := s.CountRecoveryCodes(ctx, "app1", "u1"); err != nil || n != 10 {
			t.Fatalf("CountRecoveryCodes = %d, %v; want 10", n, err)
		}
		if n := race(t, 8, func() (bool, error) { return s.ConsumeRecoveryCode(ctx, "app1", "u1", "h3") }); n != 1 {
			t.Errorf("8 concurrent ConsumeRecoveryCode: %d won, want 1", n)
		}
		for _, tc := range []struct{ app, user, hash string }{{"app1", "u1", "h3"}, {"app1", "u1", "nope"}, {"app2", "u1", "h4"}, {"app1", "u2", "h4"}} {
			if ok, err := s.ConsumeRecoveryCode(ctx, tc.app, tc.user, tc.hash); err != nil || ok {
				t.Errorf("ConsumeRecoveryCode(%s, %s, %s) = %v, %v; want false", tc.app, tc.user, tc.hash, ok, err)
			}
		}
		// New codes replace the old ones.
		noErr(t, "PutRecoveryCodes(new)", s.PutRecoveryCodes(ctx, "app1", "u1", []string{"n1", "n2"}, t0))
		if n, _ := s.CountRecoveryCodes(ctx, "app1", "u1"); n != 2 {
			t.Errorf("after replacing, CountRecoveryCodes = %d, want 2", n)
		}

		tok := identity.LoginToken{ID: "t1", AppID: "app1", UserID: "u1", Hash: "th1", Method: identity.TwoFactorSMS, CodeHash: "ch", CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
		noErr(t, "CreateLoginToken", s.CreateLoginToken(ctx, tok))
		got, err := s.FindLoginToken(ctx, "app1", "th1")
		noErr(t, "FindLoginToken", err)
		equal(t, "FindLoginToken", got, tok)
		_, err = s.FindLoginToken(ctx, "app2", "th1")
		wantKind(t, "FindLoginToken(other app)", err, apperr.NotFound)

		if n := race(t, 20, func() (bool, error) { return s.SpendLoginAttempt(ctx, "app1", "t1", 5) }); n != 5 {
			t.Errorf("20 concurrent SpendLoginAttempt at max 5: %d allowed, want 5", n)
		}
		// A new token for the user drops the user's expired ones only.
		later := identity.LoginToken{ID: "t2", AppID: "app1", UserID: "u1", Hash: "th2", Method: identity.TwoFactorTOTP, CreatedAt: t0.Add(5 * time.Minute), ExpiresAt: t0.Add(10 * time.Minute)}
		noErr(t, "CreateLoginToken(later)", s.CreateLoginToken(ctx, later))
		_, err = s.FindLoginToken(ctx, "app1", "th1")
		wantKind(t, "FindLoginToken(expired, swept)", err, apperr.NotFound)
		_, err = s.SpendLoginAttempt(ctx, "app1", "t1", 5)
		wantKind(t, "SpendLoginAttempt(gone)", err, apperr.NotFound)

		if n := race(t, 8, func() (bool, error) { return s.ConsumeLoginToken(ctx, "app1", "t2") }); n != 1 {
			t.Errorf("8 concurrent ConsumeLoginToken: %d won, want 1", n)
		}

		// DeleteTwoFactor clears one user's factor state and nobody else's.
		noErr(t, "PutPendingTotp", s.PutPendingTotp(ctx, identity.TotpSecret{AppID: "app1", UserID: "u1", SecretSealed: []byte("s"), CreatedAt: t0}))
		noErr(t, "CreateLoginToken(t3)", s.CreateLoginToken(ctx, identity.LoginToken{ID: "t3", AppID: "app1", UserID: "u1", Hash: "th3", Method: identity.TwoFactorTOTP, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
		noErr(t, "DeleteTwoFactor", s.DeleteTwoFactor(ctx, "app1", "u1"))
		_, err = s.GetTotp(ctx, "app1", "u1")
		wantKind(t, "GetTotp after DeleteTwoFactor", err, apperr.NotFound)
		_, err = s.FindLoginToken(ctx, "app1", "th3")
		wantKind(t, "FindLoginToken after DeleteTwoFactor", err, apperr.NotFound)
		if n, _ := s.CountRecoveryCodes(ctx, "app1", "u1"); n != 0 {
			t.Errorf("after DeleteTwoFactor the user has %d recovery codes", n)
		}
		if n, _ := s.CountRecoveryCodes(ctx, "app1", "u2"); n != 2 {
			t.Errorf("DeleteTwoFactor of u1 left u2 %d recovery codes, want 2", n)
		}
	})
}

func TestPhoneAndTwoFactorColumns(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createApp(t, s, "app2")
		createUser(t, s, newUser("app1", "u1", "ann@example.com", ""))
		createUser(t, s, newUser("app1", "u2", "bob@example.com", ""))
		createUser(t, s, newUser("app2", "u3", "cy@example.com", ""))
		const phone = "+14155550100"

		// Unverified, a number may sit on several users.
		noErr(t, "SetUserPhone(u1 unverified)", s.SetUserPhone(ctx, "app1", "u1", phone, false, t0))
		noErr(t, "SetUserPhone(u2 unverified)", s.SetUserPhone(ctx, "app1", "u2", phone, false, t0))
		_, err := s.FindUserByVerifiedPhone(ctx, "app1", phone)
		wantKind(t, "FindUserByVerifiedPhone(none verified)", err, apperr.NotFound)

		noErr(t, "SetUserPhone(u1 verified)", s.SetUserPhone(ctx, "app1", "u1", phone, true, t0.Add(time.Minute)))
		u, err := s.FindUserByVerifiedPhone(ctx, "app1", phone)
		noErr(t, "FindUserByVerifiedPhone", err)
		if u.ID != "u1" || !u.PhoneVerified || u.Phone != phone || !u.UpdatedAt.Equal(t0.Add(time.Minute)) || u.Email != "ann@example.com" {
			t.Errorf("FindUserByVerifiedPhone = %+v", u)
		}
		err = s.SetUserPhone(ctx, "app1", "u2", phone, true, t0)
		wantKind(t, "SetUserPhone(verified by another user)", err, apperr.Exists)
		// Another app's user may verify the same number.
		noErr(t, "SetUserPhone(other app)", s.SetUserPhone(ctx, "app2", "u3", phone, true, t0))
		err = s.SetUserPhone(ctx, "app2", "u1", phone, true, t0)
		wantKind(t, "SetUserPhone(user of another app)", err, apperr.NotFound)

		for _, tc := range []struct {
			from, to identity.TwoFactorMethod
			want     bool
		}{
			{identity.TwoFactorTOTP, identity.TwoFactorSMS, false},
			{identity.TwoFactorNone, identity.TwoFactorSMS, true},
			{identity.TwoFactorNone, identity.TwoFactorTOTP, false},
			{"", identity.TwoFactorNone, true},
		} {
			ok, err := s.SwitchTwoFactor(ctx, "app1", "u1", tc.from, tc.to, t0)
			noErr(t, "SwitchTwoFactor", err)
			if ok != tc.want {
				t.Errorf("SwitchTwoFactor(%q → %q) = %v, want %v", tc.from, tc.to, ok, tc.want)
			}
		}
		if n := race(t, 8, func() (bool, error) {
			return s.SwitchTwoFactor(ctx, "app1", "u2", identity.TwoFactorNone, identity.TwoFactorTOTP, t0)
		}); n != 1 {
			t.Errorf("8 concurrent SwitchTwoFactor(none → totp): %d won, want 1", n)
		}
		u, err = s.GetUser(ctx, "app1", "u2")
		noErr(t, "GetUser", err)
		if u.TwoFactor != identity.TwoFactorTOTP {
			t.Errorf("after SwitchTwoFactor the user's factor is %q", u.TwoFactor)
		}
	})
}
