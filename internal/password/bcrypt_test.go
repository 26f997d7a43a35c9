package password

import (
	"context"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestVerifyBcrypt: an imported bcrypt hash verifies once and asks for a
// rehash to argon2id; a wrong password is no match and no error.
func TestVerifyBcrypt(t *testing.T) {
	t.Parallel()
	h := newTestHasher(t, 0)
	const md5hex = "5f4dcc3b5aa765d61d8327deb882cf99" // what CosyncJWT clients send
	raw, err := bcrypt.GenerateFromPassword([]byte(md5hex), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		hash := prefix + string(raw[4:])
		if ok, rehash, err := h.Verify(context.Background(), md5hex, hash); !ok || !rehash || err != nil {
			t.Errorf("Verify(right, %s…) = %v, %v, %v, want true, true, nil", prefix, ok, rehash, err)
		}
		if ok, rehash, err := h.Verify(context.Background(), "0"+md5hex[1:], hash); ok || rehash || err != nil {
			t.Errorf("Verify(wrong, %s…) = %v, %v, %v, want false, false, nil", prefix, ok, rehash, err)
		}
	}
}
