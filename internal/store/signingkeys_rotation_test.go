package store_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/secrets"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

func keyRecord(appID, kid string, state keys.State, created time.Time) keys.Record {
	return keys.Record{
		AppID: appID, KID: kid, Algorithm: keys.AlgRS256, Backend: keys.BackendLocal, State: state,
		PublicKeyPEM: "pem-" + kid, SealedPrivateKey: []byte("sealed-" + kid), CreatedAt: created,
	}
}

func TestSigningKeyRotation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createApp(t, s, "app2")
		noErr(t, "CreateSigningKey(k1)", s.CreateSigningKey(ctx, keyRecord("app1", "k1", keys.StateActive, t0)))

		// One active key per app: a second is refused, in another app it is fine.
		wantKind(t, "CreateSigningKey(second active)", s.CreateSigningKey(ctx, keyRecord("app1", "k2", keys.StateActive, t0.Add(time.Hour))), apperr.Exists)
		noErr(t, "CreateSigningKey(app2)", s.CreateSigningKey(ctx, keyRecord("app2", "k1", keys.StateActive, t0)))

		// Many rotations of one key at once: exactly one deactivates it.
		at, retire := t0.Add(time.Hour), t0.Add(3*time.Hour)
		wins := race(t, 16, func() (bool, error) { return s.DeactivateSigningKey(ctx, "app1", "k1", at, retire) })
		if wins != 1 {
			t.Fatalf("DeactivateSigningKey by 16 at once: %d won, want 1", wins)
		}
		if ok, err := s.DeactivateSigningKey(ctx, "app1", "nope", at, retire); ok || err != nil {
			t.Errorf("DeactivateSigningKey(unknown kid) = %v, %v; want false, nil", ok, err)
		}
		noErr(t, "CreateSigningKey(k2 after rotation)", s.CreateSigningKey(ctx, keyRecord("app1", "k2", keys.StateActive, at)))

		got, err := s.ListSigningKeys(ctx, "app1")
		noErr(t, "ListSigningKeys", err)
		old := keyRecord("app1", "k1", keys.StateVerifying, t0)
		old.DeactivatedAt, old.RetireAt = at, retire
		equal(t, "ListSigningKeys", got, []keys.Record{keyRecord("app1", "k2", keys.StateActive, at), old})

		active, err := s.ListActiveSigningKeys(ctx, "", 10)
		noErr(t, "ListActiveSigningKeys", err)
		if len(active) != 2 || active[0].AppID != "app1" || active[0].KID != "k2" || active[1].AppID != "app2" {
			t.Errorf("ListActiveSigningKeys = %+v, want app1/k2 then app2/k1", active)
		}
		page, err := s.ListActiveSigningKeys(ctx, "app1", 10)
		noErr(t, "ListActiveSigningKeys(after app1)", err)
		if len(page) != 1 || page[0].AppID != "app2" {
			t.Errorf("ListActiveSigningKeys(after app1) = %+v, want app2 only", page)
		}

		// Retirement: nothing before retire_at; at it, once, across replicas.
		ret, err := s.RetireSigningKeys(ctx, retire.Add(-time.Microsecond))
		noErr(t, "RetireSigningKeys(early)", err)
		if len(ret) != 0 {
			t.Errorf("RetireSigningKeys before retire_at retired %+v", ret)
		}
		retired := race(t, 8, func() (bool, error) {
			r, err := s.RetireSigningKeys(ctx, retire)
			return len(r) == 1, err
		})
		if retired != 1 {
			t.Errorf("RetireSigningKeys by 8 at once: %d retired the key, want 1", retired)
		}
		got, err = s.ListSigningKeys(ctx, "app1")
		noErr(t, "ListSigningKeys", err)
		if got[1].State != keys.StateRetired || got[1].SealedPrivateKey != nil || got[0].State != keys.StateActive {
			t.Errorf("after retirement: %+v; want k1 retired without its sealed key, k2 active", got)
		}
	})
}

func TestSealedColumns(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		for i := range 3 {
			r := keyRecord("app1", fmt.Sprintf("k%d", i), keys.StateVerifying, t0.Add(time.Duration(i)*time.Hour))
			noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, r))
		}
		vault := keyRecord("app1", "kv", keys.StateActive, t0.Add(5*time.Hour))
		vault.Backend, vault.SealedPrivateKey = "vault", nil // nothing to rekey
		noErr(t, "CreateSigningKey(vault)", s.CreateSigningKey(ctx, vault))
		if ok, err := s.AddDeploymentSecret(ctx, "pepper", []byte("sealed-pepper"), t0); !ok || err != nil {
			t.Fatalf("AddDeploymentSecret = %v, %v; want true", ok, err)
		}
		if ok, err := s.AddDeploymentSecret(ctx, "pepper", []byte("other"), t0); ok || err != nil {
			t.Errorf("AddDeploymentSecret(again) = %v, %v; want false, nil (the first one stays)", ok, err)
		}
		if got, err := s.DeploymentSecret(ctx, "pepper"); err != nil || string(got) != "sealed-pepper" {
			t.Errorf("DeploymentSecret = %q, %v", got, err)
		}
		_, err := s.DeploymentSecret(ctx, "nope")
		wantKind(t, "DeploymentSecret(unknown)", err, apperr.NotFound)

		cols := map[string]secrets.Column{}
		for _, c := range s.SealedColumns() {
			cols[c.Name] = c
		}
		keyCol, ok := cols["signing_keys.sealed_private_key"]
		if !ok {
			t.Fatalf("SealedColumns = %v, want signing_keys.sealed_private_key", cols)
		}
		// Paging: two, then one, then none; associated data is the key's own.
		p1, err := keyCol.Page(ctx, "", 2)
		noErr(t, "Page", err)
		p2, err := keyCol.Page(ctx, p1[len(p1)-1].Ref, 2)
		noErr(t, "Page(after)", err)
		if len(p1) != 2 || len(p2) != 1 || p1[0].Ref != "app1/k0" || p2[0].Ref != "app1/k2" {
			t.Fatalf("pages = %+v, %+v; want app1/k0, app1/k1 | app1/k2", p1, p2)
		}
		if !bytes.Equal(p2[0].Associated, keys.SealAssociatedData("app1", "k2")) || string(p2[0].Ciphertext) != "sealed-k2" {
			t.Errorf("page entry = %+v", p2[0])
		}
		// Replace only over the value read.
		if ok, err := keyCol.Replace(ctx, p2[0], []byte("new")); !ok || err != nil {
			t.Errorf("Replace = %v, %v; want true", ok, err)
		}
		if ok, err := keyCol.Replace(ctx, p2[0], []byte("newer")); ok || err != nil {
			t.Errorf("Replace(stale) = %v, %v; want false, nil", ok, err)
		}
		got, _ := s.ListSigningKeys(ctx, "app1")
		for _, r := range got {
			if r.KID == "k2" && string(r.SealedPrivateKey) != "new" {
				t.Errorf("k2 sealed key = %q, want new", r.SealedPrivateKey)
			}
		}

		// Rekey end to end through the registered columns.
		res, err := secrets.Rekey(ctx, prefixBox(""), prefixBox("re:"), s.SealedColumns())
		noErr(t, "Rekey", err)
		counts := map[string]int{}
		for _, r := range res {
			counts[r.Column] = r.Resealed
		}
		if counts["signing_keys.sealed_private_key"] != 3 || counts["deployment_secrets.sealed"] != 1 {
			t.Errorf("Rekey = %+v, want 3 keys and 1 deployment secret", res)
		}
		if got, _ := s.DeploymentSecret(ctx, "pepper"); string(got) != "re:sealed-pepper" {
			t.Errorf("pepper after Rekey = %q", got)
		}
	})
}

// prefixBox "seals" by prefixing: enough to see Rekey move every value.
type prefixBox string

func (p prefixBox) Seal(_ context.Context, plain, _ []byte) ([]byte, error) {
	return append([]byte(p), plain...), nil
}

func (p prefixBox) Open(_ context.Context, ct, _ []byte) ([]byte, error) {
	if !bytes.HasPrefix(ct, []byte(p)) {
		return nil, secrets.ErrDecrypt
	}
	return bytes.Clone(ct[len(p):]), nil
}

// TestSealedSecondFactorColumns: TOTP secrets and Twilio tokens are
// registered for Rekey, bound to their rows, and replaced only over the
// value read.
func TestSealedSecondFactorColumns(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		a := createApp(t, s, "app1")
		createApp(t, s, "app2") // no Twilio token: not listed
		a.Settings.Twilio = identity.TwilioSettings{AccountSID: "AC" + strings.Repeat("0", 32), AuthTokenSealed: []byte("sealed-tw"), AuthTokenHint: "****1234"}
		noErr(t, "UpdateApp", s.UpdateApp(ctx, a))
		u := createUser(t, s, newUser("app1", "u1", "ann@example.com", ""))
		noErr(t, "PutPendingTotp", s.PutPendingTotp(ctx, identity.TotpSecret{AppID: "app1", UserID: u.ID, SecretSealed: []byte("sealed-totp"), CreatedAt: t0}))

		cols := map[string]secrets.Column{}
		for _, c := range s.SealedColumns() {
			cols[c.Name] = c
		}
		for name, want := range map[string]secrets.Sealed{
			"totp_secrets.secret_sealed":             {Ref: "u1", Ciphertext: []byte("sealed-totp"), Associated: identity.TotpSecretAssociatedData("app1", "u1")},
			"apps.settings.twilio.auth_token_sealed": {Ref: "app1", Ciphertext: []byte("sealed-tw"), Associated: identity.TwilioTokenAssociatedData("app1")},
		} {
			col, ok := cols[name]
			if !ok {
				t.Fatalf("SealedColumns has no %s", name)
			}
			page, err := col.Page(ctx, "", 10)
			noErr(t, name+" Page", err)
			equal(t, name+" Page", page, []secrets.Sealed{want})
			if ok, err := col.Replace(ctx, want, []byte("new")); !ok || err != nil {
				t.Errorf("%s Replace = %v, %v; want true", name, ok, err)
			}
			if ok, err := col.Replace(ctx, want, []byte("newer")); ok || err != nil {
				t.Errorf("%s Replace(stale) = %v, %v; want false, nil", name, ok, err)
			}
		}
		got, err := s.GetApp(ctx, "app1")
		noErr(t, "GetApp", err)
		if tw := got.Settings.Twilio; string(tw.AuthTokenSealed) != "new" || tw.AuthTokenHint != "****1234" || tw.AccountSID != a.Settings.Twilio.AccountSID {
			t.Errorf("Twilio settings after Replace = %+v; want the new token, the rest unchanged", tw)
		}
		totp, err := s.GetTotp(ctx, "app1", "u1")
		noErr(t, "GetTotp", err)
		if string(totp.SecretSealed) != "new" {
			t.Errorf("TOTP secret after Replace = %q, want new", totp.SecretSealed)
		}
	})
}
