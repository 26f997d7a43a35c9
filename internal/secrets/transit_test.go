package secrets_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/secrets"
	"github.com/cosync/cosync-auth/internal/vault"
	"github.com/cosync/cosync-auth/internal/vaulttest"
)

func newTransit(tb testing.TB, srv *vaulttest.Server) *secrets.Transit {
	tb.Helper()
	v, err := vault.New(context.Background(), vault.Config{Addr: srv.Addr, Token: srv.Token})
	if err != nil {
		tb.Fatalf("vault.New = %v", err)
	}
	tb.Cleanup(v.Close)
	tr, err := secrets.NewTransit(context.Background(), v, "transit", "")
	if err != nil {
		tb.Fatalf("NewTransit = %v", err)
	}
	return tr
}

func TestTransit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := vaulttest.Start(t)
	tr := newTransit(t, srv)
	ad := []byte("totp:app1:user1")
	plain := []byte("JBSWY3DPEHPK3PXP")

	ct, err := tr.Seal(ctx, plain, ad)
	if err != nil {
		t.Fatalf("Seal = %v", err)
	}
	if !bytes.HasPrefix(ct, []byte("vault:v1:")) || bytes.Contains(ct, plain) {
		t.Fatalf("Seal = %q, want a vault:v1: ciphertext without the plaintext", ct)
	}
	if again, _ := tr.Seal(ctx, plain, ad); bytes.Equal(again, ct) {
		t.Errorf("two Seals of one value gave one ciphertext")
	}
	if got, err := tr.Open(ctx, ct, ad); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v; want %q", got, err, plain)
	}
	tampered := bytes.Clone(ct)
	tampered[len(tampered)-3] ^= 'A' ^ 'B'
	local, _ := localBox(t).Seal(ctx, plain, ad)
	for name, tc := range map[string]struct{ ct, ad []byte }{
		"another row's associated data": {ct, []byte("totp:app1:user2")},
		"no associated data":            {ct, nil},
		"a tampered ciphertext":         {tampered, ad},
		"a local ciphertext":            {local, ad},
		"garbage":                       {[]byte("vault:v1:bm90IGEgY2lwaGVydGV4dA=="), ad},
	} {
		if got, err := tr.Open(ctx, tc.ct, tc.ad); !errors.Is(err, secrets.ErrDecrypt) {
			t.Errorf("Open(%s) = %q, %v; want ErrDecrypt", name, got, err)
		}
	}

	// After a rotation old ciphertexts open, new ones use the new version.
	if err := tr.Rotate(ctx); err != nil {
		t.Fatalf("Rotate = %v", err)
	}
	if got, err := tr.Open(ctx, ct, ad); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("Open(v1 after rotation) = %q, %v", got, err)
	}
	if ct2, err := tr.Seal(ctx, plain, ad); err != nil || !bytes.HasPrefix(ct2, []byte("vault:v2:")) {
		t.Errorf("Seal after rotation = %q, %v; want vault:v2:", ct2, err)
	}

	// Sealed Vault: Unavailable, not "cannot decrypt".
	srv.Seal(t)
	if _, err := tr.Open(ctx, ct, ad); !apperr.Is(err, apperr.Unavailable) || errors.Is(err, secrets.ErrDecrypt) {
		t.Errorf("Open(sealed) = %v, want Unavailable", err)
	}
	if _, err := tr.Seal(ctx, plain, ad); !apperr.Is(err, apperr.Unavailable) {
		t.Errorf("Seal(sealed) = %v, want Unavailable", err)
	}
	srv.Unseal(t)
	if _, err := tr.Open(ctx, ct, ad); err != nil {
		t.Errorf("Open(unsealed) = %v", err)
	}
}

func TestNewTransitRefusesUnderivedKey(t *testing.T) {
	t.Parallel()
	srv := vaulttest.Start(t)
	if _, err := srv.Client(t).Logical().Write("transit/keys/plain", map[string]any{"type": "aes256-gcm96"}); err != nil {
		t.Fatal(err)
	}
	v, err := vault.New(context.Background(), vault.Config{Addr: srv.Addr, Token: srv.Token})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := secrets.NewTransit(context.Background(), v, "transit", "plain"); err == nil || !strings.Contains(err.Error(), "derived") {
		t.Errorf("NewTransit(key without derivation) = %v, want an error about derivation", err)
	}
	// An existing derived key is reused: what it sealed still opens.
	a, err := secrets.NewTransit(context.Background(), v, "transit", "")
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := a.Seal(context.Background(), []byte("x"), []byte("ad"))
	b, err := secrets.NewTransit(context.Background(), v, "transit", "")
	if err != nil {
		t.Fatalf("NewTransit(again) = %v", err)
	}
	if got, err := b.Open(context.Background(), ct, []byte("ad")); err != nil || string(got) != "x" {
		t.Errorf("Open through a second NewTransit = %q, %v", got, err)
	}
}

// TestMoveToTransit: a deployment moving from the master key to Vault reads
// old secrets through the chain, and Rekey seals them all with Transit.
func TestMoveToTransit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr := newTransit(t, vaulttest.Start(t))
	local := localBox(t)
	col := &memColumn{rows: map[string][]byte{}}
	for _, ref := range []string{"a", "b", "c"} {
		ct, _ := local.Seal(ctx, []byte("secret "+ref), []byte("row:"+ref))
		col.rows[ref] = ct
	}
	chain := secrets.Chain(tr, local)
	if got, err := chain.Open(ctx, col.rows["a"], []byte("row:a")); err != nil || string(got) != "secret a" {
		t.Fatalf("chain.Open(local ciphertext) = %q, %v", got, err)
	}
	if ct, _ := chain.Seal(ctx, []byte("new"), []byte("row:d")); !bytes.HasPrefix(ct, []byte("vault:")) {
		t.Errorf("chain.Seal = %q, want Transit's", ct)
	}
	if _, err := chain.Open(ctx, col.rows["a"], []byte("row:b")); !errors.Is(err, secrets.ErrDecrypt) {
		t.Errorf("chain.Open(wrong row) = %v, want ErrDecrypt", err)
	}

	res, err := secrets.Rekey(ctx, chain, tr, []secrets.Column{col.column()})
	if err != nil || len(res) != 1 || res[0].Resealed != 3 {
		t.Fatalf("Rekey = %+v, %v; want 3 resealed", res, err)
	}
	for ref, ct := range col.rows {
		got, err := tr.Open(ctx, ct, []byte("row:"+ref))
		if err != nil || string(got) != "secret "+ref {
			t.Errorf("row %s after Rekey: Transit opens %q, %v", ref, got, err)
		}
	}
	// Running it again changes nothing but the ciphertexts.
	if res, err := secrets.Rekey(ctx, tr, tr, []secrets.Column{col.column()}); err != nil || res[0].Resealed != 3 {
		t.Errorf("Rekey(again) = %+v, %v", res, err)
	}
	// A value no box can open stops Rekey with the row named.
	col.rows["b"] = []byte("vault:v1:garbage")
	if _, err := secrets.Rekey(ctx, chain, tr, []secrets.Column{col.column()}); err == nil || !strings.Contains(err.Error(), "row b") {
		t.Errorf("Rekey(unreadable row) = %v, want an error naming row b", err)
	}
}
