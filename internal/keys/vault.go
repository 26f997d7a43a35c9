package keys

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/vault"

	"github.com/cosync/cosync-auth/internal/identity"
)

// BackendVault is the Name of VaultSigner and the Record.Backend of its keys.
const BackendVault = identity.KeyBackendVault

// Defaults of VaultConfig.
const (
	DefaultTransitMount   = "transit"
	DefaultVaultKeyPrefix = "cosync-auth-app-"
	DefaultBatchWindow    = 2 * time.Millisecond
	DefaultBatchSize      = 32
)

// VaultConfig configures a VaultSigner. The zero value is the default.
type VaultConfig struct {
	// Mount is where the Transit engine is mounted; default "transit".
	Mount string
	// KeyPrefix starts the name of each app's Transit key, which is
	// KeyPrefix + app id; default "cosync-auth-app-".
	KeyPrefix string
	// BatchWindow is how long a Sign call waits for others signing with the
	// same key version, to send them to Vault together as one batch_input;
	// default 2 ms. Negative sends each Sign on its own.
	BatchWindow time.Duration
	// BatchSize caps a batch: a full batch goes at once; default 32.
	BatchSize int
}

// VaultSigner is the Signer whose private keys never leave HashiCorp
// Vault: each application has a Transit key (rsa-2048, not exportable,
// deletion refused) named KeyPrefix + app id. Generate creates it, or
// rotates it to a new version; each version is one Record, whose kid is
// the thumbprint of that version's public key and whose BackendRef is
// "name:version", so a kid keeps naming the same key across restarts.
//
// Sign asks Transit to sign the SHA-256 digest (prehashed, PKCS#1 v1.5)
// with the record's version, and checks the answer against the record's
// public key before returning it. Concurrent Sign calls for one key
// version are coalesced into batch_input requests (see VaultConfig).
// Vault unreachable, sealed or refusing the token gives an Unavailable
// *apperr.Error at once; the next call tries Vault again.
//
// A VaultSigner is safe for concurrent use.
type VaultSigner struct {
	v   *vault.Client
	cfg VaultConfig

	mu      sync.Mutex
	pending map[versionRef]*batch // batches filling up, by key version

	pubs sync.Map // kid → *rsa.PublicKey, parsed once
}

var _ Signer = (*VaultSigner)(nil)

// NewVaultSigner returns a VaultSigner over v, which must not be nil.
func NewVaultSigner(v *vault.Client, cfg VaultConfig) *VaultSigner {
	if v == nil {
		panic("keys: NewVaultSigner with a nil vault.Client")
	}
	if cfg.Mount == "" {
		cfg.Mount = DefaultTransitMount
	}
	cfg.Mount = strings.Trim(cfg.Mount, "/")
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = DefaultVaultKeyPrefix
	}
	if cfg.BatchWindow == 0 {
		cfg.BatchWindow = DefaultBatchWindow
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	return &VaultSigner{v: v, cfg: cfg, pending: make(map[versionRef]*batch)}
}

// Name returns "vault".
func (s *VaultSigner) Name() string { return BackendVault }

// Check reports whether Vault answers, is unsealed and accepts the token.
func (s *VaultSigner) Check(ctx context.Context) error { return s.v.Check(ctx) }

// keyName returns the Transit key name of appID.
func (s *VaultSigner) keyName(appID string) string { return s.cfg.KeyPrefix + appID }

// versionRef names one version of one Transit key.
type versionRef struct {
	name    string
	version int
}

func (r versionRef) String() string { return r.name + ":" + strconv.Itoa(r.version) }

func parseRef(ref string) (versionRef, error) {
	i := strings.LastIndexByte(ref, ':')
	if i <= 0 {
		return versionRef{}, fmt.Errorf("keys: vault backend ref %q is not name:version", ref)
	}
	v, err := strconv.Atoi(ref[i+1:])
	if err != nil || v < 1 {
		return versionRef{}, fmt.Errorf("keys: vault backend ref %q is not name:version", ref)
	}
	return versionRef{ref[:i], v}, nil
}

// Generate gives appID a new key version: it creates the app's Transit key
// (version 1), or, when the key already exists, rotates it and returns the
// new latest version. The caller persists the record. Two Generates for one
// app at once may both rotate; each returns its own version. (Two that both
// find no key both get version 1: one record of it is stored, the other
// insert fails as a duplicate.)
func (s *VaultSigner) Generate(ctx context.Context, appID string) (Record, error) {
	if appID == "" {
		return Record{}, errors.New("keys: generate: empty app id")
	}
	name := s.keyName(appID)
	path := s.cfg.Mount + "/keys/" + name
	sec, err := s.v.Read(ctx, path)
	if err != nil {
		return Record{}, fmt.Errorf("keys: read transit key %q: %w", name, err)
	}
	if sec == nil {
		sec, err = s.v.Write(ctx, path, map[string]any{"type": "rsa-2048", "exportable": false, "allow_plaintext_backup": false})
		if err != nil {
			return Record{}, fmt.Errorf("keys: create transit key %q: %w", name, err)
		}
	} else {
		// A rotation, or a key left by an earlier app with this id or by a
		// Generate whose record was never stored: its versions may be in
		// use or unknown, so take a fresh one, if the key is fit to sign.
		if _, err := keyInfoOf(name, sec); err != nil {
			return Record{}, err
		}
		if sec, err = s.v.Write(ctx, path+"/rotate", nil); err != nil {
			return Record{}, fmt.Errorf("keys: rotate transit key %q: %w", name, err)
		}
	}
	info, err := keyInfoOf(name, sec)
	if err != nil {
		return Record{}, err
	}
	pub, ok := info.public[info.latest]
	if !ok {
		return Record{}, fmt.Errorf("keys: transit key %q has no public key for version %d", name, info.latest)
	}
	return s.record(appID, versionRef{name, info.latest}, pub)
}

// record builds the Record of one key version from its public key PEM.
func (s *VaultSigner) record(appID string, ref versionRef, pubPEM string) (Record, error) {
	pub, err := parsePublicPEM(pubPEM)
	if err != nil {
		return Record{}, fmt.Errorf("keys: transit key %s: %w", ref, err)
	}
	if bits := pub.N.BitLen(); bits < MinKeyBits {
		return Record{}, fmt.Errorf("keys: transit key %s: RSA key of %d bits, want at least %d", ref, bits, MinKeyBits)
	}
	kid, err := Thumbprint(pub)
	if err != nil {
		return Record{}, fmt.Errorf("keys: transit key %s: %w", ref, err)
	}
	norm, err := encodePublicPEM(pub)
	if err != nil {
		return Record{}, fmt.Errorf("keys: transit key %s: %w", ref, err)
	}
	s.pubs.Store(kid, pub)
	return Record{
		AppID:        appID,
		KID:          kid,
		Algorithm:    AlgRS256,
		Backend:      BackendVault,
		BackendRef:   ref.String(),
		State:        StateActive,
		PublicKeyPEM: norm,
		CreatedAt:    time.Now().UTC().Truncate(time.Microsecond),
	}, nil
}

// Sign signs a SHA-256 digest with the Transit key version of rec, using
// RSASSA-PKCS1-v1_5, coalescing concurrent calls into batches.
func (s *VaultSigner) Sign(ctx context.Context, rec Record, digest []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if rec.Backend != BackendVault {
		// The app has not been moved to Vault yet (the upkeep pass at
		// start does it): this signer cannot sign for it now.
		return nil, apperr.Wrap(fmt.Errorf("key %q of app %q is held by the %q signer, not vault; the key upkeep moves it", rec.KID, rec.AppID, rec.Backend),
			apperr.Unavailable, "keys.Sign")
	}
	if rec.Algorithm != AlgRS256 {
		return nil, fmt.Errorf("keys: vault signer cannot sign %q", rec.Algorithm)
	}
	if len(digest) != sha256.Size {
		return nil, fmt.Errorf("keys: sign: digest of %d bytes, want a SHA-256 digest of %d", len(digest), sha256.Size)
	}
	ref, err := parseRef(rec.BackendRef)
	if err != nil {
		return nil, err
	}
	pub, err := s.publicKey(rec)
	if err != nil {
		return nil, err
	}
	var sig []byte
	if s.cfg.BatchWindow < 0 {
		sig, err = s.signOne(ctx, ref, digest)
	} else {
		sig, err = s.enqueue(ctx, ref, digest)
	}
	if err != nil {
		return nil, err
	}
	// A Transit key deleted and made again under the same name would sign
	// with other material: tokens no JWKS verifies. Refuse them here.
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig); err != nil {
		return nil, fmt.Errorf("keys: vault signature by %s does not verify with key %q: %w", ref, rec.KID, err)
	}
	return sig, nil
}

func (s *VaultSigner) publicKey(rec Record) (*rsa.PublicKey, error) {
	if p, ok := s.pubs.Load(rec.KID); ok {
		return p.(*rsa.PublicKey), nil
	}
	pub, err := ParsePublicKey(rec)
	if err != nil {
		return nil, err
	}
	s.pubs.Store(rec.KID, pub)
	return pub, nil
}

// signParams are the sign parameters of RS256 over a digest.
func signParams() map[string]any {
	return map[string]any{
		"hash_algorithm":      "sha2-256",
		"signature_algorithm": "pkcs1v15",
		"prehashed":           true,
	}
}

// signOne signs one digest without batching.
func (s *VaultSigner) signOne(ctx context.Context, ref versionRef, digest []byte) ([]byte, error) {
	data := signParams()
	data["key_version"] = ref.version
	data["input"] = base64.StdEncoding.EncodeToString(digest)
	sec, err := s.v.Write(ctx, s.cfg.Mount+"/sign/"+ref.name, data)
	if err != nil {
		return nil, fmt.Errorf("keys: sign with %s: %w", ref, err)
	}
	if sec == nil {
		return nil, fmt.Errorf("keys: sign with %s: empty answer", ref)
	}
	sig, _ := sec.Data["signature"].(string)
	return decodeSignature(sig, ref)
}

// decodeSignature turns Transit's "vault:vN:<base64>" into raw signature
// bytes, checking that version N is the one asked for.
func decodeSignature(s string, ref versionRef) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, "vault:v")
	ver, b64, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return nil, fmt.Errorf("keys: sign with %s: answer %.20q is not vault:vN:<base64>", ref, s)
	}
	if ver != strconv.Itoa(ref.version) {
		return nil, fmt.Errorf("keys: sign with %s: signed by version %s", ref, ver)
	}
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("keys: sign with %s: signature: %w", ref, err)
	}
	return sig, nil
}

// keyInfo is what this package reads of a transit/keys/<name> answer.
type keyInfo struct {
	typ                         string
	exportable, deletionAllowed bool
	latest                      int
	public                      map[int]string // version → PKIX PEM
}

// keyInfoOf reads a transit/keys/<name> answer and refuses a key that is
// not a non-exportable, deletion-protected rsa-2048 key: one that could
// leave Vault, or be deleted with the tokens it signed still out there.
func keyInfoOf(name string, sec *api.Secret) (keyInfo, error) {
	info, err := parseKeyInfo(sec)
	if err != nil {
		return keyInfo{}, fmt.Errorf("keys: transit key %q: %w", name, err)
	}
	if info.typ != "rsa-2048" || info.exportable || info.deletionAllowed {
		return keyInfo{}, apperr.Wrap(fmt.Errorf("transit key %q is %s (exportable %t, deletion allowed %t); want a non-exportable, deletion-protected rsa-2048 key",
			name, info.typ, info.exportable, info.deletionAllowed), apperr.Precondition, "keys.Generate")
	}
	return info, nil
}

func parseKeyInfo(sec *api.Secret) (keyInfo, error) {
	if sec == nil || sec.Data == nil {
		return keyInfo{}, errors.New("empty answer")
	}
	info := keyInfo{public: map[int]string{}}
	info.typ, _ = sec.Data["type"].(string)
	info.exportable, _ = sec.Data["exportable"].(bool)
	info.deletionAllowed, _ = sec.Data["deletion_allowed"].(bool)
	n, err := number(sec.Data["latest_version"])
	if err != nil {
		return keyInfo{}, fmt.Errorf("latest_version: %w", err)
	}
	info.latest = n
	versions, _ := sec.Data["keys"].(map[string]any)
	for v, raw := range versions {
		ver, err := strconv.Atoi(v)
		if err != nil {
			continue
		}
		if m, ok := raw.(map[string]any); ok {
			if pem, _ := m["public_key"].(string); pem != "" {
				info.public[ver] = pem
			}
		}
	}
	return info, nil
}

// number reads a JSON number as the Vault client decodes it (json.Number).
func number(v any) (int, error) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return int(i), err
	case float64:
		return int(n), nil
	case int:
		return n, nil
	}
	return 0, fmt.Errorf("%v (%T) is not a number", v, v)
}
