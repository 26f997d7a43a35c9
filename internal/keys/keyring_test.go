package keys_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/cosync/cosync-auth/internal/keys"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestKeyringActiveAndPublished(t *testing.T) {
	t.Parallel()
	_, pool := genKeys(t, 4)
	a, b, c, d := pool[0], pool[1], pool[2], pool[3]
	now := newClock() // t0
	h := time.Hour

	tests := []struct {
		name          string
		recs          []keys.Record // in store order
		wantActive    string        // kid; "" means ErrNoKey
		wantPublished []string
	}{
		{
			name:          "unknown app",
			wantPublished: []string{},
		},
		{
			name:          "one active",
			recs:          []keys.Record{withLife(a, "x", keys.StateActive, t0.Add(-h), time.Time{})},
			wantActive:    a.KID,
			wantPublished: []string{a.KID},
		},
		{
			name: "rotated: active, verifying, retired, verifying past RetireAt",
			recs: []keys.Record{
				withLife(a, "x", keys.StateActive, t0.Add(-1*h), time.Time{}),
				withLife(b, "x", keys.StateVerifying, t0.Add(-2*h), t0.Add(h)),
				withLife(c, "x", keys.StateRetired, t0.Add(-3*h), t0.Add(-2*h)),
				withLife(d, "x", keys.StateVerifying, t0.Add(-4*h), t0.Add(-time.Second)),
			},
			wantActive:    a.KID,
			wantPublished: []string{a.KID, b.KID},
		},
		{
			name: "verifying with RetireAt exactly now has left",
			recs: []keys.Record{
				withLife(a, "x", keys.StateActive, t0.Add(-1*h), time.Time{}),
				withLife(b, "x", keys.StateVerifying, t0.Add(-2*h), t0),
			},
			wantActive:    a.KID,
			wantPublished: []string{a.KID},
		},
		{
			name: "two active: the newest signs, whatever the store order",
			recs: []keys.Record{
				withLife(b, "x", keys.StateActive, t0.Add(-2*h), time.Time{}),
				withLife(a, "x", keys.StateActive, t0.Add(-1*h), time.Time{}),
			},
			wantActive:    a.KID,
			wantPublished: []string{a.KID, b.KID},
		},
		{
			name: "no active key: still publishes the verifying one",
			recs: []keys.Record{
				withLife(a, "x", keys.StateVerifying, t0.Add(-1*h), time.Time{}),
				withLife(b, "x", keys.StateRetired, t0.Add(-2*h), t0.Add(-h)),
			},
			wantPublished: []string{a.KID},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := newMemStore()
			st.keys["x"] = tt.recs
			kr := keys.NewKeyring(st, keys.NewLocalSigner(newBox(t)), keys.KeyringConfig{}, now.Now)

			got, err := kr.Active(context.Background(), "x")
			switch {
			case tt.wantActive == "" && !errors.Is(err, keys.ErrNoKey):
				t.Errorf("Active(x) = %q, %v, want ErrNoKey", got.KID, err)
			case tt.wantActive != "" && (err != nil || got.KID != tt.wantActive):
				t.Errorf("Active(x) = %q, %v, want %q", got.KID, err, tt.wantActive)
			}

			pub, err := kr.Published(context.Background(), "x")
			if err != nil || !slices.Equal(kids(pub), tt.wantPublished) {
				t.Errorf("Published(x) = %q, %v, want %q", kids(pub), err, tt.wantPublished)
			}
		})
	}
}

func TestKeyringCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, pool := genKeys(t, 3)
	a, b, c := pool[0], pool[1], pool[2]

	st := newMemStore()
	st.Put(withLife(a, "x", keys.StateActive, t0.Add(-time.Hour), time.Time{}))
	clk := newClock()
	kr := keys.NewKeyring(st, keys.NewLocalSigner(newBox(t)), keys.KeyringConfig{CacheTTL: time.Minute}, clk.Now)

	active := func(step string, want string, wantReads int64) {
		t.Helper()
		got, err := kr.Active(ctx, "x")
		if err != nil || got.KID != want {
			t.Errorf("%s: Active(x) = %q, %v, want %q", step, got.KID, err, want)
		}
		if got := st.reads.Load(); got != wantReads {
			t.Errorf("%s: store reads = %d, want %d", step, got, wantReads)
		}
	}
	active("first call", a.KID, 1)
	active("cached", a.KID, 1)

	// Another replica rotates: this one keeps its list until the TTL runs out.
	st.Put(withLife(a, "x", keys.StateVerifying, t0.Add(-time.Hour), t0.Add(2*time.Hour)),
		withLife(b, "x", keys.StateActive, t0, time.Time{}))
	clk.Advance(59 * time.Second)
	active("within TTL", a.KID, 1)
	clk.Advance(time.Second)
	active("TTL over", b.KID, 2)
	active("cached again", b.KID, 2)

	// This replica rotates and invalidates: it sees the new key at once.
	st.Put(withLife(b, "x", keys.StateVerifying, t0, t0.Add(90*time.Second)),
		withLife(c, "x", keys.StateActive, t0.Add(time.Second), time.Time{}))
	kr.Invalidate("x")
	active("after Invalidate", c.KID, 3)
	if pub, _ := kr.Published(ctx, "x"); !slices.Equal(kids(pub), []string{c.KID, b.KID, a.KID}) {
		t.Errorf("Published(x) = %q, want %q", kids(pub), []string{c.KID, b.KID, a.KID})
	}

	// b retires at t0+90s, before the TTL would end (t0+60s+60s): the list
	// is re-read then, so b leaves the JWKS on time.
	clk.Advance(29 * time.Second) // t0+89s
	active("before RetireAt", c.KID, 3)
	clk.Advance(time.Second) // t0+90s
	active("at RetireAt", c.KID, 4)
	if pub, _ := kr.Published(ctx, "x"); !slices.Equal(kids(pub), []string{c.KID, a.KID}) {
		t.Errorf("Published(x) after b's RetireAt = %q, want %q", kids(pub), []string{c.KID, a.KID})
	}

	// Invalidating another app leaves this one cached.
	kr.Invalidate("y")
	active("other app invalidated", c.KID, 4)
}

func TestKeyringCacheConfig(t *testing.T) {
	t.Parallel()
	_, pool := genKeys(t, 1)
	tests := []struct {
		name      string
		ttl       time.Duration
		advance   time.Duration
		wantReads int64
	}{
		{"zero TTL is 30s: cached at 29s", 0, 29 * time.Second, 1},
		{"zero TTL is 30s: re-read at 30s", 0, 30 * time.Second, 2},
		{"negative TTL: never cached", -1, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := newMemStore()
			st.Put(withLife(pool[0], "x", keys.StateActive, t0, time.Time{}))
			clk := newClock()
			kr := keys.NewKeyring(st, keys.NewLocalSigner(newBox(t)), keys.KeyringConfig{CacheTTL: tt.ttl}, clk.Now)
			for i := range 2 {
				if _, err := kr.Active(context.Background(), "x"); err != nil {
					t.Fatalf("Active(x) #%d = %v", i, err)
				}
				clk.Advance(tt.advance)
			}
			if got := st.reads.Load(); got != tt.wantReads {
				t.Errorf("store reads = %d, want %d", got, tt.wantReads)
			}
		})
	}
}

func TestKeyringStoreError(t *testing.T) {
	t.Parallel()
	_, pool := genKeys(t, 1)
	st := newMemStore()
	st.Put(withLife(pool[0], "x", keys.StateActive, t0, time.Time{}))
	st.err = errors.New("database is down")
	kr := keys.NewKeyring(st, keys.NewLocalSigner(newBox(t)), keys.KeyringConfig{}, newClock().Now)

	if _, err := kr.Active(context.Background(), "x"); !errors.Is(err, st.err) {
		t.Errorf("Active(x) = %v, want %v", err, st.err)
	}
	st.mu.Lock()
	st.err = nil
	st.mu.Unlock()
	if got, err := kr.Active(context.Background(), "x"); err != nil || got.KID != pool[0].KID {
		t.Errorf("Active(x) after the store recovers = %q, %v, want %q (errors are not cached)", got.KID, err, pool[0].KID)
	}
}

func TestKeyringConcurrentMissesShareOneRead(t *testing.T) {
	t.Parallel()
	_, pool := genKeys(t, 1)
	st := newMemStore()
	st.Put(withLife(pool[0], "x", keys.StateActive, t0, time.Time{}))
	st.gate = make(chan struct{})
	kr := keys.NewKeyring(st, keys.NewLocalSigner(newBox(t)), keys.KeyringConfig{}, newClock().Now)

	// One caller gives up while it reads for the others: they must not
	// inherit its cancellation.
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leaderDone := make(chan error)
	go func() {
		_, err := kr.Active(leaderCtx, "x")
		leaderDone <- err
	}()
	for st.reads.Load() == 0 {
		runtime.Gosched()
	}

	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if got, err := kr.Active(context.Background(), "x"); err != nil || got.KID != pool[0].KID {
				t.Errorf("Active(x) #%d = %q, %v, want %q", i, got.KID, err, pool[0].KID)
			}
		})
	}
	for kr.Waiters("x") < n { // wait until all of them queue behind the leader
		runtime.Gosched()
	}
	cancelLeader()
	if err := <-leaderDone; !errors.Is(err, context.Canceled) {
		t.Errorf("Active(cancelled ctx) = %v, want context.Canceled", err)
	}
	close(st.gate)
	wg.Wait()
	// The leader's read, plus one read by a waiter that took over.
	if got := st.reads.Load(); got != 2 {
		t.Errorf("store reads = %d for %d concurrent misses, want 2", got, n+1)
	}
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, pool := genKeys(t, 3)
	a, b, c := pool[0], pool[1], pool[2]
	st := newMemStore()
	st.Put(withLife(a, "x", keys.StateActive, t0, time.Time{}),
		withLife(b, "x", keys.StateRetired, t0.Add(-time.Hour), t0.Add(-time.Minute)))
	kr := keys.NewKeyring(st, keys.NewLocalSigner(newBox(t)), keys.KeyringConfig{}, newClock().Now)

	body, etag, err := kr.JWKS(ctx, "x")
	if err != nil {
		t.Fatalf("JWKS(x) = %v", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("go-jose cannot parse JWKS(x) %s: %v", body, err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS(x) has %d keys, want 1 (the retired key is not published): %s", len(set.Keys), body)
	}
	k := set.Keys[0]
	wantPub, err := keys.ParsePublicKey(a)
	if err != nil {
		t.Fatal(err)
	}
	if k.KeyID != a.KID || k.Algorithm != "RS256" || k.Use != "sig" {
		t.Errorf("JWKS(x) key kid, alg, use = %q, %q, %q, want %q, RS256, sig", k.KeyID, k.Algorithm, k.Use, a.KID)
	}
	if pub, ok := k.Key.(*rsa.PublicKey); !ok || !pub.Equal(wantPub) {
		t.Errorf("JWKS(x) key = %T, want the record's RSA public key", k.Key)
	}
	var raw struct{ Keys []map[string]any }
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, member := range []string{"kty", "n", "e", "kid", "alg", "use"} {
		if _, ok := raw.Keys[0][member]; !ok {
			t.Errorf("JWKS(x) key has no %q: %s", member, body)
		}
	}
	if _, ok := raw.Keys[0]["d"]; ok {
		t.Errorf("JWKS(x) publishes a private member: %s", body)
	}

	// The ETag is a strong quoted tag, stable while the set is.
	if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 10 || strings.HasPrefix(etag, "W/") {
		t.Errorf("JWKS(x) etag = %s, want a strong quoted tag", etag)
	}
	kr.Invalidate("x") // a fresh build from the same rows
	body2, etag2, err := kr.JWKS(ctx, "x")
	if err != nil || etag2 != etag || string(body2) != string(body) {
		t.Errorf("JWKS(x) rebuilt = %s, %v, want the same body and etag %s", etag2, err, etag)
	}

	// A new key changes the body and the tag; the old key stays published.
	st.Put(withLife(a, "x", keys.StateVerifying, t0, t0.Add(time.Hour)),
		withLife(c, "x", keys.StateActive, t0.Add(time.Second), time.Time{}))
	kr.Invalidate("x")
	body3, etag3, err := kr.JWKS(ctx, "x")
	if err != nil || etag3 == etag {
		t.Errorf("JWKS(x) after rotation etag = %s, %v, want a new tag (old %s)", etag3, err, etag)
	}
	set = jose.JSONWebKeySet{}
	if err := json.Unmarshal(body3, &set); err != nil || len(set.Key(a.KID)) != 1 || len(set.Key(c.KID)) != 1 {
		t.Errorf("JWKS(x) after rotation = %s, %v, want keys %s and %s", body3, err, c.KID, a.KID)
	}

	// The jwk.Set for verification holds the same keys.
	ks, err := kr.KeySet(ctx, "x")
	if err != nil || ks.Len() != 2 {
		t.Fatalf("KeySet(x) = %v, %v, want 2 keys", ks, err)
	}
	if _, ok := ks.LookupKeyID(c.KID); !ok {
		t.Errorf("KeySet(x) has no key %q", c.KID)
	}

	// An app without keys publishes an empty set.
	body, _, err = kr.JWKS(ctx, "nobody")
	if err != nil || string(body) != `{"keys":[]}` {
		t.Errorf("JWKS(nobody) = %s, %v, want {\"keys\":[]}", body, err)
	}
}

func TestPublicJWKRejectsBadRecords(t *testing.T) {
	t.Parallel()
	_, pool := genKeys(t, 2)
	tests := []struct {
		name string
		mod  func(*keys.Record)
	}{
		{"not RS256", func(r *keys.Record) { r.Algorithm = "ES256" }},
		{"no PEM", func(r *keys.Record) { r.PublicKeyPEM = "" }},
		{"garbage PEM", func(r *keys.Record) { r.PublicKeyPEM = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n" }},
		{"kid is not the thumbprint", func(r *keys.Record) { r.KID = pool[1].KID }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := pool[0]
			tt.mod(&rec)
			if k, err := keys.PublicJWK(rec); err == nil {
				t.Errorf("PublicJWK(%s) = %v, nil, want an error", tt.name, k)
			}
		})
	}
}

func TestCryptoSigner(t *testing.T) {
	t.Parallel()
	signer, pool := genKeys(t, 1)
	rec := pool[0] // app "pool": the shared signer can open it
	kr := keys.NewKeyring(newMemStore(), signer, keys.KeyringConfig{}, nil)
	if kr.Signer() != keys.Signer(signer) {
		t.Errorf("Signer() = %v, want the signer given to NewKeyring", kr.Signer())
	}
	cs := kr.CryptoSigner(context.Background(), rec)
	pub, ok := cs.Public().(*rsa.PublicKey)
	if want, _ := keys.ParsePublicKey(rec); !ok || !pub.Equal(want) {
		t.Fatalf("CryptoSigner.Public() = %T, want the record's key", cs.Public())
	}

	d256 := sha256.Sum256([]byte("msg"))
	sig, err := cs.Sign(rand.Reader, d256[:], crypto.SHA256)
	if err != nil {
		t.Fatalf("CryptoSigner.Sign(SHA-256) = %v", err)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, d256[:], sig); err != nil {
		t.Errorf("VerifyPKCS1v15(CryptoSigner.Sign) = %v", err)
	}

	d1 := sha1.Sum([]byte("msg"))
	tests := []struct {
		name   string
		digest []byte
		opts   crypto.SignerOpts
	}{
		{"nil opts", d256[:], nil},
		{"SHA-1", d1[:], crypto.SHA1},
		{"SHA-512", d256[:], crypto.SHA512},
		{"PSS", d256[:], &rsa.PSSOptions{Hash: crypto.SHA256}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := cs.Sign(rand.Reader, tt.digest, tt.opts); err == nil {
				t.Errorf("CryptoSigner.Sign(%s) = nil error, want an error", tt.name)
			}
		})
	}

	// The signer carries the operation's context to the backend.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := kr.CryptoSigner(ctx, rec).Sign(rand.Reader, d256[:], crypto.SHA256); !errors.Is(err, context.Canceled) {
		t.Errorf("CryptoSigner(cancelled).Sign = %v, want context.Canceled", err)
	}

	bad := rec
	bad.PublicKeyPEM = "junk"
	if got := kr.CryptoSigner(context.Background(), bad).Public(); got != nil {
		t.Errorf("CryptoSigner(bad PEM).Public() = %v, want nil", got)
	}
}
