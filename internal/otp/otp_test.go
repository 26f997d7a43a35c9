package otp

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

func TestNewCode(t *testing.T) {
	t.Parallel()
	const n = 10_000
	re := regexp.MustCompile(`^[0-9]{6}$`)
	var first [10]int
	for range n {
		code, err := NewCode()
		if err != nil {
			t.Fatalf("NewCode() error = %v, want nil", err)
		}
		if !re.MatchString(code) {
			t.Fatalf("NewCode() = %q, want match for %s", code, re)
		}
		first[code[0]-'0']++
	}

	// Pearson's chi-square over the leading digit, 9 degrees of freedom.
	// P(X² > 46) ≈ 6e-7, so a fair generator fails about once in 1.7 million
	// runs; a biased one (say, modulo 10^6 of a 20-bit draw) fails at once.
	const expected = n / 10.0
	var chi2 float64
	for _, c := range first {
		d := float64(c) - expected
		chi2 += d * d / expected
	}
	if chi2 > 46 {
		t.Errorf("NewCode() leading digits %v: chi-square = %.1f, want <= 46", first, chi2)
	}
}

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestHasherBinds(t *testing.T) {
	t.Parallel()
	h := NewHasher(testKey(1))
	base := h.Hash("signup", "app1:alice", "123456")
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(base) {
		t.Fatalf("Hash(%q, %q, %q) = %q, want 64 lowercase hex digits", "signup", "app1:alice", "123456", base)
	}

	tests := []struct {
		name                   string
		h                      *Hasher
		purpose, subject, code string
	}{
		{"purpose", h, "reset", "app1:alice", "123456"},
		{"subject", h, "signup", "app1:bob", "123456"},
		{"app", h, "signup", "app2:alice", "123456"},
		{"code", h, "signup", "app1:alice", "123457"},
		{"field boundary", h, "signupa", "pp1:alice", "123456"},
		{"key", NewHasher(testKey(2)), "signup", "app1:alice", "123456"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.h.Hash(tt.purpose, tt.subject, tt.code); got == base {
				t.Errorf("Hash(%q, %q, %q) = %q, want it to differ from the base hash", tt.purpose, tt.subject, tt.code, got)
			}
			if tt.h.Equal(base, tt.purpose, tt.subject, tt.code) {
				t.Errorf("Equal(base, %q, %q, %q) = true, want false", tt.purpose, tt.subject, tt.code)
			}
		})
	}
	if again := h.Hash("signup", "app1:alice", "123456"); again != base {
		t.Errorf("Hash(%q, %q, %q) = %q then %q, want deterministic", "signup", "app1:alice", "123456", base, again)
	}
}

func TestHasherEqual(t *testing.T) {
	t.Parallel()
	h := NewHasher(testKey(1))
	hash := h.Hash("reset", "app1:alice", "000042")

	tests := []struct {
		name, hash, code string
		want             bool
	}{
		{"match", hash, "000042", true},
		{"uppercase hex", strings.ToUpper(hash), "000042", true},
		{"wrong code", hash, "000043", false},
		{"empty hash", "", "000042", false},
		{"truncated hash", hash[:62], "000042", false},
		{"not hex", "zz" + hash[2:], "000042", false},
		{"odd length", hash[:63], "000042", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := h.Equal(tt.hash, "reset", "app1:alice", tt.code); got != tt.want {
				t.Errorf("Equal(%q, %q, %q, %q) = %v, want %v", tt.hash, "reset", "app1:alice", tt.code, got, tt.want)
			}
		})
	}
}

func TestNewHasherShortKeyPanics(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 31} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHasher(%d-byte key) did not panic, want panic", n)
				}
			}()
			NewHasher(make([]byte, n))
		}()
	}
}

func TestNewHasherCopiesKey(t *testing.T) {
	t.Parallel()
	key := testKey(1)
	h := NewHasher(key)
	before := h.Hash("p", "s", "c")
	key[0] ^= 0xff
	if after := h.Hash("p", "s", "c"); after != before {
		t.Errorf("Hash after the caller changed its key slice = %q, want %q", after, before)
	}
}

func TestNewToken(t *testing.T) {
	t.Parallel()
	for _, n := range []int{16, 32, 33} {
		seen := make(map[string]bool)
		for range 100 {
			tok, err := NewToken(n)
			if err != nil {
				t.Fatalf("NewToken(%d) error = %v, want nil", n, err)
			}
			raw, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil || len(raw) != n {
				t.Fatalf("NewToken(%d) = %q, decodes to %d bytes (err %v), want %d", n, tok, len(raw), err, n)
			}
			if seen[tok] {
				t.Fatalf("NewToken(%d) = %q twice, want distinct", n, tok)
			}
			seen[tok] = true
		}
	}
	for _, n := range []int{-1, 0, 15} {
		if tok, err := NewToken(n); err == nil {
			t.Errorf("NewToken(%d) = %q, nil, want error", n, tok)
		}
	}
}

func TestHashToken(t *testing.T) {
	t.Parallel()
	// SHA-256("abc") from FIPS 180-2, appendix B.1.
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := HashToken("abc"); got != want {
		t.Errorf("HashToken(%q) = %q, want %q", "abc", got, want)
	}
}

func TestNewRecoveryCodes(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[a-z2-7]{5}-[a-z2-7]{5}$`)
	codes, err := NewRecoveryCodes(200)
	if err != nil {
		t.Fatalf("NewRecoveryCodes(200) error = %v, want nil", err)
	}
	if len(codes) != 200 {
		t.Fatalf("NewRecoveryCodes(200) returned %d codes, want 200", len(codes))
	}
	seen := make(map[string]bool)
	used := make(map[rune]bool)
	for _, c := range codes {
		if !re.MatchString(c) {
			t.Errorf("NewRecoveryCodes(200) code %q, want match for %s", c, re)
		}
		if seen[c] {
			t.Errorf("NewRecoveryCodes(200) code %q twice, want distinct", c)
		}
		seen[c] = true
		for _, r := range c {
			used[r] = true
		}
	}
	// 2000 draws from 32 symbols miss one with probability ~32·(31/32)^2000,
	// about 1e-26: a check that all five bits are used.
	if len(used) != 33 { // 32 symbols and the dash
		t.Errorf("NewRecoveryCodes(200) used %d distinct characters, want 33", len(used))
	}
	for _, n := range []int{-1, 0} {
		if codes, err := NewRecoveryCodes(n); err == nil {
			t.Errorf("NewRecoveryCodes(%d) = %q, nil, want error", n, codes)
		}
	}
}
