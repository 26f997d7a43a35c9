package keys

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"sync"
)

// CryptoSigner returns a crypto.Signer that signs with the key of rec
// through the Keyring's backend, so libraries that take a crypto.Signer
// (jwx's jws.Sign) sign with any backend, Vault included. It signs only
// PKCS#1 v1.5 over SHA-256 digests (RS256); it ignores the rand argument.
//
// crypto.Signer has no context, so the returned signer carries ctx: make
// one per signing operation and do not keep it. It is safe for concurrent
// use.
func (k *Keyring) CryptoSigner(ctx context.Context, rec Record) crypto.Signer {
	return &cryptoSigner{ctx: ctx, backend: k.signer, rec: rec}
}

type cryptoSigner struct {
	ctx     context.Context // of the one operation this signer serves
	backend Signer
	rec     Record

	pubOnce sync.Once
	pub     *rsa.PublicKey
}

// Public returns the RSA public key of the record, or nil if its PEM does
// not parse. It is parsed on first use: jwx never asks for it when signing.
func (c *cryptoSigner) Public() crypto.PublicKey {
	c.pubOnce.Do(func() {
		if pub, err := ParsePublicKey(c.rec); err == nil {
			c.pub = pub
		}
	})
	if c.pub == nil {
		return nil // not a typed nil: callers compare with nil
	}
	return c.pub
}

// Sign signs digest, which must be a SHA-256 digest, with PKCS#1 v1.5.
func (c *cryptoSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil {
		return nil, errors.New("keys: crypto signer: no hash given")
	}
	// PSSOptions also report SHA-256 for PS256; signing PKCS#1 v1.5 under
	// that header would give tokens no one can verify.
	if _, ok := opts.(*rsa.PSSOptions); ok {
		return nil, errors.New("keys: crypto signer: RSA-PSS is not supported, only RS256")
	}
	if h := opts.HashFunc(); h != crypto.SHA256 {
		return nil, fmt.Errorf("keys: crypto signer: hash %v is not supported, only SHA-256", h)
	}
	return c.backend.Sign(c.ctx, c.rec, digest)
}
