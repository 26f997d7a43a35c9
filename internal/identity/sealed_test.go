package identity_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/secrets"
)

// TestSealedSecretsBound: a TOTP secret opens only for its own app and
// user, a Twilio token only for its own app.
func TestSealedSecretsBound(t *testing.T) {
	t.Parallel()
	box, err := secrets.NewLocal(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sealed, err := box.Seal(ctx, []byte("SECRET"), identity.TotpSecretAssociatedData("app1", "ann"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := box.Open(ctx, sealed, identity.TotpSecretAssociatedData("app1", "ann")); err != nil {
		t.Fatalf("Open with its own associated data = %v", err)
	}
	for name, ad := range map[string][]byte{
		"another user":       identity.TotpSecretAssociatedData("app1", "bob"),
		"another app":        identity.TotpSecretAssociatedData("app2", "ann"),
		"a shifted boundary": identity.TotpSecretAssociatedData("app1a", "nn"),
		"a Twilio token":     identity.TwilioTokenAssociatedData("app1"),
	} {
		if _, err := box.Open(ctx, sealed, ad); !errors.Is(err, secrets.ErrDecrypt) {
			t.Errorf("Open of a TOTP secret as %s = %v, want ErrDecrypt", name, err)
		}
	}
	tok, err := box.Seal(ctx, []byte("token"), identity.TwilioTokenAssociatedData("app1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := box.Open(ctx, tok, identity.TwilioTokenAssociatedData("app2")); !errors.Is(err, secrets.ErrDecrypt) {
		t.Errorf("Open of app1's Twilio token as app2's = %v, want ErrDecrypt", err)
	}
}
