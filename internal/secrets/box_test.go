package secrets

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
)

func newTestLocal(tb testing.TB, keyByte byte) *Local {
	tb.Helper()
	l, err := NewLocal(bytes.Repeat([]byte{keyByte}, 32))
	if err != nil {
		tb.Fatalf("NewLocal(32 bytes) error = %v, want nil", err)
	}
	return l
}

func mustSeal(tb testing.TB, b Box, plain, ad string) []byte {
	tb.Helper()
	ct, err := b.Seal(context.Background(), []byte(plain), []byte(ad))
	if err != nil {
		tb.Fatalf("Seal(%q, %q) error = %v, want nil", plain, ad, err)
	}
	return ct
}

func TestLocalRoundTrip(t *testing.T) {
	t.Parallel()
	l := newTestLocal(t, 1)
	tests := []struct {
		name, plain, ad string
	}{
		{"totp seed", "JBSWY3DPEHPK3PXP", "totp:app1:user1"},
		{"empty plaintext", "", "totp:app1:user1"},
		{"empty associated", "secret", ""},
		{"binary", "\x00\xff\x00", "k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ct := mustSeal(t, l, tt.plain, tt.ad)
			if want := 1 + 12 + len(tt.plain) + 16; len(ct) != want || ct[0] != 1 {
				t.Errorf("Seal(%q, %q) = %d bytes with version %d, want %d bytes with version 1", tt.plain, tt.ad, len(ct), ct[0], want)
			}
			if len(tt.plain) > 0 && bytes.Contains(ct, []byte(tt.plain)) {
				t.Errorf("Seal(%q, %q) contains the plaintext", tt.plain, tt.ad)
			}
			got, err := l.Open(context.Background(), ct, []byte(tt.ad))
			if err != nil || string(got) != tt.plain {
				t.Errorf("Open(Seal(%q, %q)) = %q, %v, want %q, nil", tt.plain, tt.ad, got, err, tt.plain)
			}
		})
	}
	a, b := mustSeal(t, l, "same", "ad"), mustSeal(t, l, "same", "ad")
	if bytes.Equal(a, b) {
		t.Errorf("Seal(%q, %q) twice gave equal ciphertexts, want fresh nonces", "same", "ad")
	}
}

func TestLocalOpenFails(t *testing.T) {
	t.Parallel()
	l := newTestLocal(t, 1)
	ct := mustSeal(t, l, "JBSWY3DPEHPK3PXP", "totp:app1:user1")
	flip := func(i int) []byte {
		c := bytes.Clone(ct)
		c[i] ^= 0x01
		return c
	}

	tests := []struct {
		name string
		box  Box
		ct   []byte
		ad   string
	}{
		{"other row", l, ct, "totp:app1:user2"},
		{"other app", l, ct, "totp:app2:user1"},
		{"no associated data", l, ct, ""},
		{"wrong key", newTestLocal(t, 2), ct, "totp:app1:user1"},
		{"flipped version", l, flip(0), "totp:app1:user1"},
		{"flipped nonce", l, flip(5), "totp:app1:user1"},
		{"flipped body", l, flip(1 + 12 + 3), "totp:app1:user1"},
		{"flipped tag", l, flip(len(ct) - 1), "totp:app1:user1"},
		{"truncated", l, ct[:len(ct)-1], "totp:app1:user1"},
		{"too short", l, ct[:1+12+15], "totp:app1:user1"},
		{"empty", l, nil, "totp:app1:user1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.box.Open(context.Background(), tt.ct, []byte(tt.ad))
			if !errors.Is(err, ErrDecrypt) || got != nil {
				t.Errorf("Open(%x, %q) = %q, %v, want nil, ErrDecrypt", tt.ct, tt.ad, got, err)
			}
		})
	}
}

func TestLocalConcurrent(t *testing.T) {
	t.Parallel()
	l := newTestLocal(t, 1)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 50 {
				ct := mustSeal(t, l, "seed", "row")
				if got, err := l.Open(context.Background(), ct, []byte("row")); err != nil || string(got) != "seed" {
					t.Errorf("Open(Seal(%q, %q)) = %q, %v, want %q, nil", "seed", "row", got, err, "seed")
				}
			}
		})
	}
	wg.Wait()
}

func TestNewLocalKeyLength(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 31, 33, 64} {
		if l, err := NewLocal(make([]byte, n)); err == nil {
			t.Errorf("NewLocal(%d bytes) = %v, nil, want error", n, l)
		}
	}
}

func TestDeriveKey(t *testing.T) {
	t.Parallel()
	master := bytes.Repeat([]byte{7}, 32)
	a := DeriveKey(master, "otp pepper")
	// Pinned, computed independently from RFC 5869: changing the derivation
	// would orphan every key and ciphertext derived with it.
	const want = "94f8a1fdb0f6206920cebf4537f69ce4832d04c7104a2c1c576ae5fb540c989f"
	if got := hex.EncodeToString(a); got != want {
		t.Fatalf("DeriveKey(master, %q) = %s, want %s", "otp pepper", got, want)
	}
	if b := DeriveKey(master, "otp pepper"); !bytes.Equal(a, b) {
		t.Errorf("DeriveKey(master, %q) = %x then %x, want deterministic", "otp pepper", a, b)
	}

	tests := []struct {
		name    string
		master  []byte
		purpose string
	}{
		{"other purpose", master, "jwt signing"},
		{"purpose prefix", master, "otp peppe"},
		{"empty purpose", master, ""},
		{"other master", bytes.Repeat([]byte{8}, 32), "otp pepper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := DeriveKey(tt.master, tt.purpose)
			if bytes.Equal(got, a) || bytes.Equal(got, master) {
				t.Errorf("DeriveKey(%x, %q) = %x, want distinct from %x and the master", tt.master, tt.purpose, got, a)
			}
		})
	}
}
