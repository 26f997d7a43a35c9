package secrets

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/vault"
)

// DefaultTransitKey is the name of the deployment's Transit encryption key.
const DefaultTransitKey = "cosync-auth-secrets"

// transitPrefix starts every Transit ciphertext ("vault:v1:…"). Local's
// start with the version byte 1, so the two never look alike.
var transitPrefix = []byte("vault:v")

// Transit is a Box that encrypts through HashiCorp Vault's Transit engine
// under one key of the deployment (aes256-gcm96 with key derivation): the
// plaintext goes to Vault and back, the key never leaves it. The associated
// data is the derivation context, so a ciphertext copied to another row
// (other associated data) does not decrypt. A ciphertext is Vault's own
// "vault:vN:<base64>" string, which names the key version: after a
// rotation of the key, old ciphertexts still open and Rekey moves them to
// the newest version.
//
// Vault unreachable or sealed gives an Unavailable *apperr.Error. Transit
// is safe for concurrent use.
type Transit struct {
	v     *vault.Client
	mount string
	key   string
}

var _ Box = (*Transit)(nil)

// NewTransit returns a Transit box using the key named key (default
// DefaultTransitKey) of the Transit engine at mount (default "transit"),
// creating the key (aes256-gcm96, derived, not exportable) if it does not
// exist. An existing key without derivation is refused: it could not bind
// ciphertexts to their rows.
func NewTransit(ctx context.Context, v *vault.Client, mount, key string) (*Transit, error) {
	if v == nil {
		return nil, errors.New("secrets: NewTransit with a nil vault.Client")
	}
	if mount = strings.Trim(mount, "/"); mount == "" {
		mount = "transit"
	}
	if key == "" {
		key = DefaultTransitKey
	}
	t := &Transit{v: v, mount: mount, key: key}
	sec, err := v.Write(ctx, mount+"/keys/"+key, map[string]any{
		"type": "aes256-gcm96", "derived": true, "exportable": false,
	})
	if err != nil {
		return nil, fmt.Errorf("secrets: transit key %q: %w", key, err)
	}
	if sec == nil || sec.Data == nil {
		if sec, err = v.Read(ctx, mount+"/keys/"+key); err != nil {
			return nil, fmt.Errorf("secrets: transit key %q: %w", key, err)
		}
	}
	if sec == nil || sec.Data["derived"] != true {
		return nil, fmt.Errorf("secrets: transit key %q exists without key derivation (derived=true); it cannot bind secrets to their rows: use another key", key)
	}
	return t, nil
}

// Key returns the Transit key name.
func (t *Transit) Key() string { return t.key }

// Seal encrypts plaintext under the newest version of the key, bound to
// associated.
func (t *Transit) Seal(ctx context.Context, plaintext, associated []byte) ([]byte, error) {
	sec, err := t.v.Write(ctx, t.mount+"/encrypt/"+t.key, map[string]any{
		"plaintext": base64.StdEncoding.EncodeToString(plaintext),
		"context":   transitContext(associated),
	})
	if err != nil {
		return nil, fmt.Errorf("secrets: transit encrypt: %w", err)
	}
	ct, _ := sec.Data["ciphertext"].(string)
	if !strings.HasPrefix(ct, string(transitPrefix)) {
		return nil, fmt.Errorf("secrets: transit encrypt: answer is not a vault:vN: ciphertext")
	}
	return []byte(ct), nil
}

// Open decrypts a ciphertext from Seal given the same associated data. A
// ciphertext that is not Transit's, or that Vault will not decrypt with
// this key and context, gives ErrDecrypt without further detail to the
// caller; Vault being unavailable does not.
func (t *Transit) Open(ctx context.Context, ciphertext, associated []byte) ([]byte, error) {
	if !bytes.HasPrefix(ciphertext, transitPrefix) {
		return nil, ErrDecrypt
	}
	sec, err := t.v.Write(ctx, t.mount+"/decrypt/"+t.key, map[string]any{
		"ciphertext": string(ciphertext),
		"context":    transitContext(associated),
	})
	if vault.StatusOf(err) == http.StatusBadRequest {
		// Wrong context, a tampered or foreign ciphertext, a version below
		// the key's minimum: all "not authentic under this box".
		return nil, fmt.Errorf("%w (transit: %s)", ErrDecrypt, vault.Messages(err))
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: transit decrypt: %w", err)
	}
	b64, _ := sec.Data["plaintext"].(string)
	plain, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "secrets: transit decrypt")
	}
	return plain, nil
}

// Rotate makes Vault add a new version of the key: later Seals use it,
// earlier ciphertexts still open. Rekey then moves them to it.
func (t *Transit) Rotate(ctx context.Context) error {
	if _, err := t.v.Write(ctx, t.mount+"/keys/"+t.key+"/rotate", nil); err != nil {
		return fmt.Errorf("secrets: rotate transit key %q: %w", t.key, err)
	}
	return nil
}

// transitContext is the derivation context for associated data: never
// empty (Vault requires one for a derived key), and distinct per value.
func transitContext(associated []byte) string {
	return base64.StdEncoding.EncodeToString(append([]byte("cosync-auth:"), associated...))
}
