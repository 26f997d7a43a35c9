package keys_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/keys"
)

// TestImportKey: an existing RSA key, in the forms an export or a paste
// gives it, becomes a local record named by its thumbprint that signs
// with that very key; anything else is refused, and a signer that cannot
// import says so.
func TestImportKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)}))
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	pkcs8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	wantKID, _ := keys.Thumbprint(&priv.PublicKey)
	local := keys.NewLocalSigner(newBox(t))
	ring := keys.NewKeyring(newMemStore(), local, keys.KeyringConfig{}, newClock().Now)

	for name, in := range map[string]string{
		"PKCS#1":          pkcs1,
		"PKCS#8":          pkcs8,
		"base64 of a PEM": base64.StdEncoding.EncodeToString([]byte(pkcs1)),
		"escaped lines":   strings.ReplaceAll(pkcs8, "\n", `\n`),
	} {
		t.Run(name, func(t *testing.T) {
			rec, err := ring.ImportKey(ctx, "app1", identity.Secret(in))
			if err != nil {
				t.Fatalf("ImportKey(%s) = %v", name, err)
			}
			if rec.KID != wantKID || rec.Backend != keys.BackendLocal || rec.State != keys.StateActive || rec.AppID != "app1" {
				t.Errorf("ImportKey(%s) = %s %s %s %s, want kid %s, local, active, app1", name, rec.KID, rec.Backend, rec.State, rec.AppID, wantKID)
			}
			if strings.Contains(string(rec.SealedPrivateKey), string(der[:64])) {
				t.Errorf("ImportKey(%s) keeps the private key in clear", name)
			}
			digest := sha256.Sum256([]byte("payload"))
			// The record opens only through its sealed copy: Import caches nothing.
			sig, err := local.Sign(ctx, rec, digest[:])
			if err != nil {
				t.Fatalf("Sign with the imported record = %v", err)
			}
			if err := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
				t.Errorf("a signature of the imported record does not verify with the original key: %v", err)
			}
		})
	}

	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	for name, in := range map[string]string{
		"garbage":       "not a key",
		"public key":    string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		"1024-bit RSA":  string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)})),
		"an EC key":     string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})),
		"truncated PEM": pkcs1[:200],
	} {
		if rec, err := ring.ImportKey(ctx, "app1", identity.Secret(in)); err == nil {
			t.Errorf("ImportKey(%s) = %s, nil; want an error", name, rec.KID)
		}
	}

	vaultLike := keys.NewKeyring(newMemStore(), signerOnly{keys.NewLocalSigner(newBox(t))}, keys.KeyringConfig{}, newClock().Now)
	if _, err := vaultLike.ImportKey(ctx, "app1", identity.Secret(pkcs1)); !errors.Is(err, keys.ErrImportUnsupported) {
		t.Errorf("ImportKey through a signer that cannot import = %v, want ErrImportUnsupported", err)
	}
}

// signerOnly hides every method but the Signer's, as a backend without
// import (Vault Transit) has.
type signerOnly struct{ keys.Signer }
