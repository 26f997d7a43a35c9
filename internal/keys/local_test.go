package keys_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/secrets"
)

func TestThumbprintRFC7638Example(t *testing.T) {
	t.Parallel()
	// RFC 7638 §3.1.
	n, err := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	if err != nil {
		t.Fatal(err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	const want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	if got, err := keys.Thumbprint(pub); got != want || err != nil {
		t.Errorf("Thumbprint(RFC 7638 key) = %q, %v, want %q, nil", got, err, want)
	}
	for _, bad := range []*rsa.PublicKey{nil, {}, {N: big.NewInt(5), E: 0}} {
		if got, err := keys.Thumbprint(bad); err == nil {
			t.Errorf("Thumbprint(%v) = %q, nil, want an error", bad, got)
		}
	}
}

func TestLocalGenerate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	box := newBox(t)
	s := keys.NewLocalSigner(box)
	before := time.Now().UTC().Truncate(time.Microsecond)
	rec, err := s.Generate(ctx, "app1")
	if err != nil {
		t.Fatalf("Generate(app1) = %v", err)
	}

	for _, c := range []struct{ field, got, want string }{
		{"AppID", rec.AppID, "app1"},
		{"Algorithm", rec.Algorithm, "RS256"},
		{"Backend", rec.Backend, "local"},
		{"BackendRef", rec.BackendRef, ""},
		{"State", string(rec.State), string(keys.StateActive)},
	} {
		if c.got != c.want {
			t.Errorf("Generate(app1).%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if rec.CreatedAt.Before(before) || rec.CreatedAt.Location() != time.UTC || !rec.CreatedAt.Equal(rec.CreatedAt.Truncate(time.Microsecond)) {
		t.Errorf("Generate(app1).CreatedAt = %v, want UTC now truncated to µs (after %v)", rec.CreatedAt, before)
	}
	if !rec.DeactivatedAt.IsZero() || !rec.RetireAt.IsZero() {
		t.Errorf("Generate(app1) DeactivatedAt, RetireAt = %v, %v, want zero", rec.DeactivatedAt, rec.RetireAt)
	}

	// The PEM is a PKIX RSA-2048 public key ...
	block, rest := pem.Decode([]byte(rec.PublicKeyPEM))
	if block == nil || block.Type != "PUBLIC KEY" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("Generate(app1).PublicKeyPEM = %q, want one PUBLIC KEY block", rec.PublicKeyPEM)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatalf("ParsePKIXPublicKey(PublicKeyPEM) = %v", err)
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok || pub.N.BitLen() != 2048 {
		t.Fatalf("PublicKeyPEM holds %T, want a 2048-bit *rsa.PublicKey", k)
	}

	// ... whose RFC 7638 thumbprint, as an outside library computes it, is the kid.
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if want := base64.RawURLEncoding.EncodeToString(tp); rec.KID != want {
		t.Errorf("Generate(app1).KID = %q, want go-jose thumbprint %q", rec.KID, want)
	}

	// The private key is sealed: its DER is nowhere in clear, it opens only
	// under "signing-key:<app>:<kid>", and it is the key of the PEM.
	if len(rec.SealedPrivateKey) == 0 {
		t.Fatal("Generate(app1).SealedPrivateKey is empty")
	}
	der, err := box.Open(ctx, rec.SealedPrivateKey, []byte("signing-key:app1:"+rec.KID))
	if err != nil {
		t.Fatalf("Open(sealed, signing-key:app1:kid) = %v", err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatalf("ParsePKCS8PrivateKey(opened) = %v", err)
	}
	if rk, ok := priv.(*rsa.PrivateKey); !ok || !rk.PublicKey.Equal(pub) {
		t.Errorf("opened private key does not match PublicKeyPEM")
	}
	if bytes.Contains(rec.SealedPrivateKey, der) || bytes.Contains(rec.SealedPrivateKey, der[len(der)-64:]) {
		t.Errorf("SealedPrivateKey contains the PKCS#8 DER in clear")
	}
	for _, ad := range []string{"", "signing-key:app2:" + rec.KID, "signing-key:app1:other", "signing-key:app1:" + rec.KID + "x"} {
		if _, err := box.Open(ctx, rec.SealedPrivateKey, []byte(ad)); !errors.Is(err, secrets.ErrDecrypt) {
			t.Errorf("Open(sealed, %q) = %v, want %v", ad, err, secrets.ErrDecrypt)
		}
	}

	// A second key is a different key.
	rec2, err := s.Generate(ctx, "app1")
	if err != nil {
		t.Fatalf("Generate(app1) again = %v", err)
	}
	if rec2.KID == rec.KID {
		t.Errorf("two Generate calls gave the same kid %q", rec.KID)
	}
}

func TestLocalSign(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	signer, recs := genKeys(t, 1)
	rec := recs[0]
	pub, err := keys.ParsePublicKey(rec)
	if err != nil {
		t.Fatalf("ParsePublicKey = %v", err)
	}
	digest := sha256.Sum256([]byte("header.payload"))

	sig, err := signer.Sign(ctx, rec, digest[:])
	if err != nil {
		t.Fatalf("Sign = %v", err)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		t.Errorf("VerifyPKCS1v15(Sign) = %v, want nil", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		rec    keys.Record
		digest []byte
	}{
		{"vault record", ctx, func() keys.Record { r := rec; r.Backend = "vault"; return r }(), digest[:]},
		{"not RS256", ctx, func() keys.Record { r := rec; r.Algorithm = "PS256"; return r }(), digest[:]},
		{"short digest", ctx, rec, digest[:20]},
		{"cancelled", cancelled, rec, digest[:]},
		{"other app's sealed key", ctx, func() keys.Record { r := rec; r.AppID = "thief"; return r }(), digest[:]},
		{"no sealed key", ctx, func() keys.Record { r := rec; r.AppID = "x"; r.SealedPrivateKey = nil; return r }(), digest[:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if sig, err := signer.Sign(tt.ctx, tt.rec, tt.digest); err == nil {
				t.Errorf("Sign(%s) = %x, nil, want an error", tt.name, sig[:8])
			}
		})
	}
}

func TestLocalSignOpensSealedKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	box := newBox(t)
	rec, err := keys.NewLocalSigner(box).Generate(ctx, "app1")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.ParsePublicKey(rec)
	if err != nil {
		t.Fatal(err)
	}
	// A new signer (another replica) has nothing cached: it must open the
	// sealed key, and many first uses at once must agree.
	fresh := keys.NewLocalSigner(box)
	digest := sha256.Sum256([]byte("x"))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			sig, err := fresh.Sign(ctx, rec, digest[:])
			if err != nil {
				t.Errorf("Sign #%d = %v", i, err)
				return
			}
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
				t.Errorf("VerifyPKCS1v15(Sign #%d) = %v", i, err)
			}
		})
	}
	wg.Wait()

	// Under another box, the same row does not open.
	if _, err := keys.NewLocalSigner(newBox(t)).Sign(ctx, rec, digest[:]); err == nil {
		t.Errorf("Sign with another master key = nil error, want failure")
	}

	// A row whose sealed key is not the key its kid names is refused, even
	// when it opens: the tokens it would sign could not be verified.
	rec2, err := keys.NewLocalSigner(box).Generate(ctx, "app1")
	if err != nil {
		t.Fatal(err)
	}
	der, err := box.Open(ctx, rec2.SealedPrivateKey, keys.SealAssociatedData("app1", rec2.KID))
	if err != nil {
		t.Fatal(err)
	}
	swapped := rec
	if swapped.SealedPrivateKey, err = box.Seal(ctx, der, keys.SealAssociatedData("app1", rec.KID)); err != nil {
		t.Fatal(err)
	}
	if sig, err := keys.NewLocalSigner(box).Sign(ctx, swapped, digest[:]); err == nil {
		t.Errorf("Sign(row with another key sealed under its kid) = %x…, nil, want an error", sig[:8])
	}
}

func TestLocalSignerBasics(t *testing.T) {
	t.Parallel()
	s := keys.NewLocalSigner(newBox(t))
	if got := s.Name(); got != "local" {
		t.Errorf("Name() = %q, want %q", got, "local")
	}
	if err := s.Check(context.Background()); err != nil {
		t.Errorf("Check() = %v, want nil", err)
	}
	if _, err := s.Generate(context.Background(), ""); err == nil {
		t.Errorf("Generate(%q) = nil error, want an error", "")
	}
}
