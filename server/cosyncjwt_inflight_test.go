package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/pquerna/otp/totp"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/cosyncjwt"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/keys"
)

var _ cosyncjwt.SigningKeys = (*keys.Keyring)(nil)
var _ cosyncjwt.InFlight = (*identity.Service)(nil)

// totpSecret is the base32 secret CosyncJWT gave a Google Authenticator user.
const totpSecret = "JBSWY3DPEHPK3PXPJBSWY3DP"

// jsDateOf writes t as the export does (JavaScript's Date.toString).
func jsDateOf(t time.Time) string {
	return t.UTC().Format("Mon Jan 02 2006 15:04:05 GMT-0700") + " (Coordinated Universal Time)"
}

// inFlightExport is an export with what was in flight: an authenticator
// user, a fresh and an expired pending signup, an open invitation, and
// the app's private key in app-collection.csv.
func inFlightExport(tb testing.TB, now time.Time, key *rsa.PrivateKey) []byte {
	tb.Helper()
	d := jsDateOf(now.Add(-time.Hour))
	md := `"{""user_data"":{""name"":{""first"":""Pat""}}}"`
	users := userHeader +
		"totp@example.com," + bcryptMD5(tb, "Totp pass 1") + ",active,app1,false,true," + totpSecret + ",,,false,," + md + "," + d + ",EN," + d + "," + d + "\n" +
		"badsecret@example.com," + bcryptMD5(tb, "Bad pass 1") + ",active,app1,false,true,not base32!,,,false,,,,EN,,\n"
	signups := "handle,password,status,appId,code,locale,metaData,createdAt,updatedAt\n" +
		"pending@example.com," + bcryptMD5(tb, "Pending pass 1") + ",pending,app1,123456,EN," + md + "," + d + "," + d + "\n" +
		"stale@example.com," + bcryptMD5(tb, "Stale pass 1") + ",pending,app1,234567,EN,," + jsDateOf(now.Add(-49*time.Hour)) + ",\n" +
		"done@example.com,x,verified,app1,1,EN,,,\n"
	invites := "handle,senderHandle,senderUserId,code,status,appId,metaData,createdAt,updatedAt\n" +
		"invited@example.com,totp@example.com,u1,654321,pending,app1,," + d + "," + d + "\n"
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	app := "appId,name,appToken,appPrivateKey\napp1,Legacy," + cjwtAppToken + ",\"" + keyPEM + "\"\n"
	return zipOf(tb, map[string]string{
		"app1/user-collection.csv": users, "app1/signup-collection.csv": signups,
		"app1/invite-collection.csv": invites, "app1/app-collection.csv": app,
	})
}

// TestCosyncJWTImportInFlight: the import carries over what was in
// flight and the app's key, so users notice nothing: a pending signup
// completes with the code already mailed, an invitation registers with
// its code, an authenticator user completes a login with a code from
// their app, and the jwts we mint verify with the CosyncJWT public key a
// Realm config holds. The dry run reports it all and writes nothing; a
// second run changes nothing.
func TestCosyncJWTImportInFlight(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.cjwtApp(t, dev, authv1.SignupFlow_SIGNUP_FLOW_CODE)
		e.update(t, dev, app, &adminv1.AppSettings{TwoFactor: authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP}, "settings.two_factor")
		ex, err := cosyncjwt.ReadExport(bytes.NewReader(inFlightExport(t, e.clock.Now(), key)))
		if err != nil {
			t.Fatalf("ReadExport = %v", err)
		}
		im := cosyncjwt.Importer{Store: e.p.store, InFlight: e.p.svc, Keys: e.p.keyring, KeyStore: e.p.store.Console(), Now: e.clock.Now}
		wantKID, _ := keys.Thumbprint(&key.PublicKey)
		before, err := e.p.keyring.Active(ctx, app)
		if err != nil {
			t.Fatal(err)
		}

		dry, err := im.Import(ctx, app, ex, true)
		if err != nil || dry.Imported != 2 || dry.Signups != 1 || dry.Invites != 1 || dry.Authenticators != 1 || dry.SigningKey != wantKID {
			t.Fatalf("Import(dry) = %+v, %v; want 2 users, 1 signup, 1 invitation, 1 authenticator, key %s", dry, err, wantKID)
		}
		if got, _ := e.p.keyring.Active(ctx, app); got.KID != before.KID {
			t.Fatalf("after a dry run the active key is %s, want %s", got.KID, before.KID)
		}
		if _, err := e.p.store.FindCode(ctx, app, identity.PurposeSignup, "pending@example.com"); err == nil {
			t.Fatalf("a dry run stored a signup code")
		}

		rep, err := im.Import(ctx, app, ex, false)
		if err != nil || rep.Imported != 2 || rep.Signups != 1 || rep.Invites != 1 || rep.Authenticators != 1 || rep.SigningKey != wantKID {
			t.Fatalf("Import = %+v, %v; want what the dry run said", rep, err)
		}
		if got := rowsByHandle(rep.Skipped); got["stale@example.com"] != cosyncjwt.SkipSignupExpired || len(got) != 1 {
			t.Errorf("Import skipped %v, want only stale@example.com as expired", got)
		}
		if got := rowsByHandle(rep.Notes); got["badsecret@example.com"] != cosyncjwt.NoteTOTPInvalid {
			t.Errorf("Import notes %v, want the bad authenticator secret", got)
		}
		again, err := im.Import(ctx, app, ex, false)
		if err != nil || again.Imported+again.Signups+again.Invites+again.Authenticators != 0 || again.SigningKey != "" {
			t.Fatalf("Import again = %+v, %v; want nothing", again, err)
		}
		if got := rowsByHandle(again.Skipped); got["pending@example.com"] != cosyncjwt.SkipExists || got["invited@example.com"] != cosyncjwt.SkipExists || got[wantKID] != cosyncjwt.SkipKeyExists {
			t.Errorf("Import again skipped %v, want the signup, invitation and key as existing", got)
		}
		recs, err := e.p.store.ListSigningKeys(ctx, app)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.KID == before.KID && r.State != identity.KeyVerifying {
				t.Errorf("our old key %s is %s, want verifying", r.KID, r.State)
			}
		}

		const A = "app-token"
		md := `&metaData={"user_data":{"name":{"first":"Pat"}}}`
		// The pending signup completes with the code CosyncJWT mailed.
		jwt, _ := e.swift(t, "api/appuser/completeSignup", A, cjwtAppToken, "handle=pending@example.com&code=123456").wantSession(t, "completeSignup with the imported code")
		verifyWithImportedKey(t, jwt, &key.PublicKey, wantKID)
		e.swift(t, "api/appuser/login", A, cjwtAppToken, "handle=pending@example.com&password="+md5hex("Pending pass 1")).wantSession(t, "login after the imported signup")
		// The invitation registers with its code.
		e.swift(t, "api/appuser/register", A, cjwtAppToken, "handle=invited@example.com&password="+md5hex("Invited pass 1")+"&code=654321"+md).wantSession(t, "register with the imported invitation")
		// The authenticator app keeps working.
		r := e.swift(t, "api/appuser/login", A, cjwtAppToken, "handle=totp@example.com&password="+md5hex("Totp pass 1"))
		lt, _ := r.json(t)["login-token"].(string)
		if lt == "" {
			t.Fatalf("login of the authenticator user = %s, want a login-token", r.body)
		}
		code, err := totp.GenerateCode(totpSecret, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		jwt, _ = e.swift(t, "api/appuser/loginComplete", A, cjwtAppToken, "loginToken="+lt+"&code="+code).wantSession(t, "loginComplete with the authenticator's code")
		verifyWithImportedKey(t, jwt, &key.PublicKey, wantKID)
		if sealed, err := e.p.store.GetTotp(ctx, app, mustUser(t, e.p.store, app, "totp@example.com").ID); err != nil || bytes.Contains(sealed.SecretSealed, []byte(totpSecret)) {
			t.Errorf("the imported secret at rest = %v; want it sealed", err)
		}
	})
}

// verifyWithImportedKey checks raw with go-jose against the public key a
// Realm config copied from CosyncJWT.
func verifyWithImportedKey(tb testing.TB, raw string, pub *rsa.PublicKey, kid string) {
	tb.Helper()
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		tb.Fatalf("ParseSigned = %v", err)
	}
	var c josejwt.Claims
	if err := tok.Claims(pub, &c); err != nil {
		tb.Fatalf("the jwt does not verify with the imported CosyncJWT key: %v", err)
	}
	if tok.Headers[0].KeyID != kid {
		tb.Errorf("jwt kid = %q, want the imported key's thumbprint %q", tok.Headers[0].KeyID, kid)
	}
}

// noImport is a signer that cannot import keys, as Vault Transit.
type noImport struct{}

func (noImport) ImportKey(context.Context, string, identity.Secret) (identity.SigningKey, error) {
	return identity.SigningKey{}, fmt.Errorf("%w (vault)", keys.ErrImportUnsupported)
}
func (noImport) Invalidate(string) {}

// TestCosyncJWTImportKeyVault: with a signer that cannot import a key the
// app keeps its own, and the report says why.
func TestCosyncJWTImportKeyVault(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, sqliteStore(t))
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	app := e.cjwtApp(t, dev, authv1.SignupFlow_SIGNUP_FLOW_CODE)
	ex, err := cosyncjwt.ReadExport(bytes.NewReader(inFlightExport(t, e.clock.Now(), key)))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := e.p.keyring.Active(ctx, app)
	rep, err := cosyncjwt.Importer{Store: e.p.store, InFlight: e.p.svc, Keys: noImport{}, KeyStore: e.p.store.Console(), Now: e.clock.Now}.Import(ctx, app, ex, false)
	if err != nil || rep.SigningKey != "" || rowsByHandle(rep.Skipped)["appPrivateKey"] != cosyncjwt.SkipKeySigner {
		t.Fatalf("Import with Vault = %+v, %v; want the key skipped as %s", rep, err, cosyncjwt.SkipKeySigner)
	}
	if after, _ := e.p.keyring.Active(ctx, app); after.KID != before.KID {
		t.Errorf("active key = %s, want ours (%s) kept", after.KID, before.KID)
	}
}
