package keys

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/cosync/cosync-auth/internal/identity"
)

// DefaultCacheTTL is the KeyringConfig.CacheTTL used when it is zero.
const DefaultCacheTTL = identity.KeyCacheTTL

// KeyringConfig configures a Keyring. The zero value is the default.
type KeyringConfig struct {
	// CacheTTL is how long a replica trusts its cached key list of an app
	// before reading the store again. The replica that rotated calls
	// Invalidate and sees it at once; on Postgres the others hear of it
	// from the store's change listener (server wiring calls Invalidate),
	// and CacheTTL bounds what a missed announcement costs. Zero means
	// DefaultCacheTTL (30 s); negative disables the cache.
	CacheTTL time.Duration
}

// Keyring is the read side of signing keys: which key of an application
// signs now (Active), which public keys it publishes (Published, JWKS), and
// a crypto.Signer that signs through the backend (CryptoSigner).
//
// It caches each app's key list for KeyringConfig.CacheTTL, and never past
// the moment a published key reaches its RetireAt, so a retired key leaves
// the JWKS on time. Concurrent cache misses for one app share one store
// read. Store errors are not cached. The cache holds one entry per app it
// has been asked about.
//
// A Keyring is safe for concurrent use.
type Keyring struct {
	store  Store
	signer Signer
	ttl    time.Duration
	now    func() time.Time

	mu      sync.Mutex
	cache   map[string]*snapshot // by app id
	loading map[string]*load     // by app id: store reads in flight
}

// snapshot is what a Keyring knows about one app's keys at one moment. It
// is immutable once built, except for the lazily built public forms.
type snapshot struct {
	active    int      // index into records of the newest active key; -1 if none
	records   []Record // newest first
	published []Record // newest first
	expires   time.Time

	pubOnce sync.Once
	set     jwk.Set // published keys; shared, never modified after pubOnce
	body    []byte  // JWKS document of set
	etag    string
	pubErr  error
}

// load is one store read that concurrent callers wait on.
type load struct {
	done    chan struct{}
	snap    *snapshot
	err     error
	waiters int // callers waiting on done; guarded by Keyring.mu (for tests)
}

// NewKeyring returns a Keyring that reads key records from store and signs
// through signer. now is the clock used for the cache and for RetireAt;
// nil means time.Now. store and signer must not be nil.
func NewKeyring(store Store, signer Signer, cfg KeyringConfig, now func() time.Time) *Keyring {
	if store == nil || signer == nil {
		panic("keys: NewKeyring with a nil Store or Signer")
	}
	if now == nil {
		now = time.Now
	}
	ttl := cfg.CacheTTL
	if ttl == 0 {
		ttl = DefaultCacheTTL
	}
	return &Keyring{
		store:   store,
		signer:  signer,
		ttl:     ttl,
		now:     now,
		cache:   make(map[string]*snapshot),
		loading: make(map[string]*load),
	}
}

// Signer returns the backend the Keyring signs through.
func (k *Keyring) Signer() Signer { return k.signer }

// Active returns the newest active key of appID, or ErrNoKey if it has none.
func (k *Keyring) Active(ctx context.Context, appID string) (Record, error) {
	s, err := k.snapshot(ctx, appID)
	if err != nil {
		return Record{}, err
	}
	if s.active < 0 {
		return Record{}, fmt.Errorf("%w (app %q)", ErrNoKey, appID)
	}
	return s.records[s.active], nil
}

// Published returns the keys of appID whose public keys are published,
// newest first: active and verifying keys whose RetireAt is zero or in the
// future. An app without keys gives an empty slice. The slice is the
// caller's own.
func (k *Keyring) Published(ctx context.Context, appID string) ([]Record, error) {
	s, err := k.snapshot(ctx, appID)
	if err != nil {
		return nil, err
	}
	return slices.Clone(s.published), nil
}

// JWKS returns the JSON Web Key Set document ({"keys":[…]}) of the keys
// Published for appID and its entity tag: a strong, quoted hash of body
// that changes exactly when body does. Each key carries kty, n, e, kid,
// alg "RS256" and use "sig". The body is built once per cached key list;
// callers must not modify it.
func (k *Keyring) JWKS(ctx context.Context, appID string) (body []byte, etag string, err error) {
	s, err := k.publicForms(ctx, appID)
	if err != nil {
		return nil, "", err
	}
	return s.body, s.etag, nil
}

// KeySet returns the keys Published for appID as a jwk.Set, for verifying
// tokens (jws.WithKeySet). Each key has kid, alg and use set. The set is
// shared between callers until the cache refreshes: callers must not
// modify it.
func (k *Keyring) KeySet(ctx context.Context, appID string) (jwk.Set, error) {
	s, err := k.publicForms(ctx, appID)
	if err != nil {
		return nil, err
	}
	return s.set, nil
}

// Invalidate drops the cached key list of appID, so the next call reads the
// store. Call it after creating or rotating a key on this replica. A store
// read already in flight for appID is not cached.
func (k *Keyring) Invalidate(appID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.cache, appID)
	delete(k.loading, appID)
}

// InvalidateAll drops every cached key list (changes may have been missed:
// a change listener reconnected).
func (k *Keyring) InvalidateAll() {
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.cache)
	clear(k.loading)
}

// PublicKeyJWK is PublicJWK of a key's public view.
func PublicKeyJWK(k identity.PublicKey) (jwk.Key, error) {
	return PublicJWK(Record{AppID: k.AppID, KID: k.KID, Algorithm: k.Algorithm, PublicKeyPEM: k.PublicKeyPEM})
}

// PublicJWK returns the public key of rec as a JWK with kid, alg "RS256"
// and use "sig" set.
func PublicJWK(rec Record) (jwk.Key, error) {
	if rec.Algorithm != AlgRS256 {
		return nil, fmt.Errorf("keys: key %q of app %q: algorithm %q, want %s", rec.KID, rec.AppID, rec.Algorithm, AlgRS256)
	}
	pub, err := ParsePublicKey(rec)
	if err != nil {
		return nil, err
	}
	key, err := jwk.FromRaw(pub)
	if err != nil {
		return nil, fmt.Errorf("keys: key %q of app %q: %w", rec.KID, rec.AppID, err)
	}
	for name, v := range map[string]any{
		jwk.KeyIDKey:     rec.KID,
		jwk.AlgorithmKey: jwa.RS256,
		jwk.KeyUsageKey:  jwk.ForSignature,
	} {
		if err := key.Set(name, v); err != nil {
			return nil, fmt.Errorf("keys: key %q of app %q: set %s: %w", rec.KID, rec.AppID, name, err)
		}
	}
	return key, nil
}

// snapshot returns the cached snapshot of appID, reading the store when it
// is missing or stale. Concurrent misses share one read.
func (k *Keyring) snapshot(ctx context.Context, appID string) (*snapshot, error) {
	for {
		k.mu.Lock()
		if s := k.cache[appID]; s != nil && k.now().Before(s.expires) {
			k.mu.Unlock()
			return s, nil
		}
		if l := k.loading[appID]; l != nil {
			l.waiters++
			k.mu.Unlock()
			select {
			case <-l.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			// The caller that read for us gave up; that is no answer for a
			// caller that is still waiting.
			if l.err != nil && isContextErr(l.err) && ctx.Err() == nil {
				continue
			}
			return l.snap, l.err
		}
		l := &load{done: make(chan struct{})}
		k.loading[appID] = l
		k.mu.Unlock()

		l.snap, l.err = k.fetch(ctx, appID)

		k.mu.Lock()
		if k.loading[appID] == l { // not invalidated meanwhile
			delete(k.loading, appID)
			if l.err == nil && k.ttl > 0 {
				k.cache[appID] = l.snap
			}
		}
		k.mu.Unlock()
		close(l.done)
		return l.snap, l.err
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// fetch reads the keys of appID and builds a snapshot valid until the TTL
// runs out or the first published key reaches its RetireAt.
func (k *Keyring) fetch(ctx context.Context, appID string) (*snapshot, error) {
	recs, err := k.store.ListSigningKeys(ctx, appID)
	if err != nil {
		return nil, fmt.Errorf("keys: list signing keys of app %q: %w", appID, err)
	}
	recs = slices.Clone(recs)
	// The store promises newest first; sorting again costs nothing and
	// makes "newest active" not depend on it.
	slices.SortStableFunc(recs, func(a, b Record) int { return b.CreatedAt.Compare(a.CreatedAt) })

	now := k.now()
	s := &snapshot{active: -1, records: recs, expires: now.Add(k.ttl)}
	for i, r := range recs {
		if r.State == StateActive && s.active < 0 {
			s.active = i
		}
		if (r.State == StateActive || r.State == StateVerifying) && (r.RetireAt.IsZero() || r.RetireAt.After(now)) {
			s.published = append(s.published, r)
			if !r.RetireAt.IsZero() && r.RetireAt.Before(s.expires) {
				s.expires = r.RetireAt
			}
		}
	}
	return s, nil
}

// publicForms returns the snapshot of appID with its jwk.Set and JWKS body
// built.
func (k *Keyring) publicForms(ctx context.Context, appID string) (*snapshot, error) {
	s, err := k.snapshot(ctx, appID)
	if err != nil {
		return nil, err
	}
	s.pubOnce.Do(func() { s.pubErr = s.buildPublic() })
	if s.pubErr != nil {
		return nil, s.pubErr
	}
	return s, nil
}

func (s *snapshot) buildPublic() error {
	set := jwk.NewSet()
	for _, r := range s.published {
		key, err := PublicJWK(r)
		if err != nil {
			return err
		}
		if err := set.AddKey(key); err != nil {
			return fmt.Errorf("keys: key %q of app %q: %w", r.KID, r.AppID, err)
		}
	}
	body, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("keys: marshal JWKS: %w", err)
	}
	sum := sha256.Sum256(body)
	s.set, s.body = set, body
	s.etag = `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
	return nil
}
