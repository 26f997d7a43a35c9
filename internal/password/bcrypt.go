package password

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// isBcrypt reports whether hash is a bcrypt hash in modular crypt form.
func isBcrypt(hash string) bool {
	return strings.HasPrefix(hash, "$2a$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$")
}

// verifyBcrypt checks plain against an imported bcrypt hash within the
// same concurrency bound as argon2id. A match always needs a rehash.
func (h *Hasher) verifyBcrypt(ctx context.Context, plain, hash string) (ok, needsRehash bool, err error) {
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	switch err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(plain)); {
	case err == nil:
		return true, true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, false, nil
	default:
		return false, false, fmt.Errorf("%w: bcrypt: %v", ErrMalformed, err)
	}
}
