package identity

import "time"

// KeyState is where a signing key is in its life. A key is created active,
// becomes verifying when a newer key replaces it (tokens it signed still
// verify), and retired once those tokens have expired.
type KeyState string

// The states of a signing key.
const (
	KeyActive    KeyState = "active"    // signs new tokens; published
	KeyVerifying KeyState = "verifying" // no longer signs; published until RetireAt
	KeyRetired   KeyState = "retired"   // neither signs nor is published
)

// The key backends a SigningKey names (KeyMaker.Name).
const (
	KeyBackendLocal = "local" // RSA keys sealed at rest in the database
	KeyBackendVault = "vault" // keys inside Vault Transit
)

// KeyCacheTTL is how long a replica may keep signing with keys it read
// before it looks again (the keys package's Keyring cache); a replaced key
// stays published at least this long past the token lifetime.
const KeyCacheTTL = 30 * time.Second

// SigningKey is one signing key of one application as stored. It holds no
// private key in clear: the local backend keeps it sealed, Vault keeps it
// inside Vault.
type SigningKey struct {
	AppID string
	// KID is the RFC 7638 thumbprint of the public key (SHA-256, base64url
	// without padding).
	KID       string
	Algorithm string // always "RS256"
	Backend   string // the backend that holds the private key: KeyBackendLocal or KeyBackendVault
	// BackendRef is what the backend needs to find the key (Vault: key name
	// and version); empty for local.
	BackendRef   string
	State        KeyState
	PublicKeyPEM string // PKIX "PUBLIC KEY" PEM
	// SealedPrivateKey is, for the local backend only, the PKCS#8 DER private
	// key sealed with a SecretBox under the keys package's associated data.
	SealedPrivateKey []byte
	CreatedAt        time.Time
	DeactivatedAt    time.Time // zero while active
	RetireAt         time.Time // zero while active; when the key leaves the JWKS
}

// PublicKey is what may leave the keys' owners of a SigningKey: everything
// but the sealed private key. Handlers and commands get this, never a
// SigningKey.
type PublicKey struct {
	AppID         string
	KID           string
	Algorithm     string
	Backend       string
	State         KeyState
	PublicKeyPEM  string
	CreatedAt     time.Time
	DeactivatedAt time.Time
	RetireAt      time.Time
}

// Public returns k without its private material.
func (k SigningKey) Public() PublicKey {
	return PublicKey{AppID: k.AppID, KID: k.KID, Algorithm: k.Algorithm, Backend: k.Backend, State: k.State,
		PublicKeyPEM: k.PublicKeyPEM, CreatedAt: k.CreatedAt, DeactivatedAt: k.DeactivatedAt, RetireAt: k.RetireAt}
}
