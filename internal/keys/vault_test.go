package keys_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/token"
	"github.com/cosync/cosync-auth/internal/vault"
	"github.com/cosync/cosync-auth/internal/vaulttest"
)

// countingTransport counts the Transit sign requests that pass through it.
type countingTransport struct {
	base  http.RoundTripper
	signs atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/sign/") {
		c.signs.Add(1)
	}
	return c.base.RoundTrip(r)
}

// vaultClient connects to srv with its root token through a counting transport.
func vaultClient(tb testing.TB, srv *vaulttest.Server) (*vault.Client, *countingTransport) {
	tb.Helper()
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64 // as the server's outbound client
	ct := &countingTransport{base: t}
	hc := &http.Client{Transport: ct, Timeout: 5 * time.Second}
	v, err := vault.New(context.Background(), vault.Config{Addr: srv.Addr, Token: srv.Token, HTTPClient: hc, Timeout: 3 * time.Second})
	if err != nil {
		tb.Fatalf("vault.New = %v", err)
	}
	tb.Cleanup(v.Close)
	return v, ct
}

// signers are the backends the shared cases run against: the local one,
// and Transit in a real Vault.
func signers(t *testing.T) map[string]func(t *testing.T) keys.Signer {
	return map[string]func(t *testing.T) keys.Signer{
		"local": func(t *testing.T) keys.Signer { return keys.NewLocalSigner(newBox(t)) },
		"vault": func(t *testing.T) keys.Signer {
			v, _ := vaultClient(t, vaulttest.Start(t))
			return keys.NewVaultSigner(v, keys.VaultConfig{})
		},
	}
}

// verifyOutside checks raw with go-jose against the JWKS document of the
// keyring, as a consumer of the JWKS URL would, and returns its kid.
func verifyOutside(t *testing.T, kr *keys.Keyring, appID, raw string) (string, error) {
	t.Helper()
	body, _, err := kr.JWKS(context.Background(), appID)
	if err != nil {
		t.Fatalf("JWKS = %v", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("JWKS %s: %v", body, err)
	}
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("ParseSigned = %v", err)
	}
	kid := tok.Headers[0].KeyID
	found := set.Key(kid)
	if len(found) != 1 {
		return kid, fmt.Errorf("kid %q is not in the JWKS", kid)
	}
	var c josejwt.Claims
	return kid, tok.Claims(found[0].Key, &c)
}

func claims(now time.Time) token.Claims {
	return token.Claims{Issuer: "https://auth.example.com/apps/app1", Subject: "user-1", Audience: []string{"aud"}, IssuedAt: now, Expiry: now.Add(time.Hour)}
}

// TestSignerRoundTrip signs tokens with each backend, rotates, and checks
// every token with an outside JOSE verifier against the published JWKS.
func TestSignerRoundTrip(t *testing.T) {
	t.Parallel()
	for name, newSigner := range signers(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			signer := newSigner(t)
			st := newMemStore()
			kr := keys.NewKeyring(st, signer, keys.KeyringConfig{CacheTTL: -1}, nil)
			iss := token.NewIssuer(kr)

			first, err := signer.Generate(ctx, "app1")
			if err != nil {
				t.Fatalf("Generate = %v", err)
			}
			if first.Backend != name || first.State != keys.StateActive || first.AppID != "app1" {
				t.Fatalf("Generate = %+v", first)
			}
			pub, err := keys.ParsePublicKey(first)
			if err != nil {
				t.Fatalf("ParsePublicKey = %v", err)
			}
			if tp, _ := keys.Thumbprint(pub); tp != first.KID {
				t.Errorf("kid %q is not the thumbprint %q", first.KID, tp)
			}
			st.Put(first)
			tok1, err := iss.Mint(ctx, "app1", claims(time.Now()))
			if err != nil {
				t.Fatalf("Mint = %v", err)
			}
			if kid, err := verifyOutside(t, kr, "app1", tok1); err != nil || kid != first.KID {
				t.Fatalf("outside verify = %q, %v; want kid %q", kid, err, first.KID)
			}

			// Rotate: the new key signs, the old token still verifies.
			second, err := signer.Generate(ctx, "app1")
			if err != nil {
				t.Fatalf("Generate(again) = %v", err)
			}
			if second.KID == first.KID {
				t.Fatalf("a second key has the first one's kid %q", first.KID)
			}
			first.State, first.DeactivatedAt, first.RetireAt = keys.StateVerifying, time.Now(), time.Now().Add(2*time.Hour)
			second.CreatedAt = first.CreatedAt.Add(time.Second)
			st.Put(first, second)
			tok2, err := iss.Mint(ctx, "app1", claims(time.Now()))
			if err != nil {
				t.Fatalf("Mint after rotation = %v", err)
			}
			if kid, err := verifyOutside(t, kr, "app1", tok2); err != nil || kid != second.KID {
				t.Errorf("new token: outside verify = %q, %v; want kid %q", kid, err, second.KID)
			}
			if _, err := verifyOutside(t, kr, "app1", tok1); err != nil {
				t.Errorf("old token after rotation: %v", err)
			}
			if _, err := iss.Verify(ctx, "app1", "https://auth.example.com/apps/app1", tok1, time.Now()); err != nil {
				t.Errorf("Verify(old token) = %v", err)
			}

			// Retired: the old key leaves the JWKS and its tokens stop verifying.
			first.State = keys.StateRetired
			st.Put(first)
			if _, err := verifyOutside(t, kr, "app1", tok1); err == nil {
				t.Errorf("old token verifies after its key retired")
			}
			if _, err := iss.Verify(ctx, "app1", "https://auth.example.com/apps/app1", tok1, time.Now()); err == nil {
				t.Errorf("Verify(old token) after retirement = nil, want an error")
			}
		})
	}
}

func TestVaultRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := vaulttest.Start(t)
	v, _ := vaultClient(t, srv)
	s := keys.NewVaultSigner(v, keys.VaultConfig{})

	r1, err := s.Generate(ctx, "app1")
	if err != nil {
		t.Fatalf("Generate = %v", err)
	}
	r2, err := s.Generate(ctx, "app1")
	if err != nil {
		t.Fatalf("Generate(again) = %v", err)
	}
	if r1.BackendRef != "cosync-auth-app-app1:1" || r2.BackendRef != "cosync-auth-app-app1:2" || r1.SealedPrivateKey != nil {
		t.Errorf("records = %+v, %+v; want versions 1 and 2, no private key", r1, r2)
	}

	// The Transit key is not exportable and refuses deletion.
	sec, err := srv.Client(t).Logical().Read("transit/keys/cosync-auth-app-app1")
	if err != nil || sec == nil {
		t.Fatalf("read key = %v", err)
	}
	if sec.Data["type"] != "rsa-2048" || sec.Data["exportable"] != false || sec.Data["deletion_allowed"] != false {
		t.Errorf("transit key = type %v, exportable %v, deletion_allowed %v", sec.Data["type"], sec.Data["exportable"], sec.Data["deletion_allowed"])
	}
	if _, err := srv.Client(t).Logical().Delete("transit/keys/cosync-auth-app-app1"); err == nil {
		t.Errorf("deleting the app's transit key succeeded, want it refused")
	}

	// After a restart (a new signer over the stored records) each kid still
	// signs with its own version.
	again := keys.NewVaultSigner(v, keys.VaultConfig{BatchWindow: -1})
	for _, r := range []keys.Record{r1, r2} {
		digest := sha256.Sum256([]byte("restart " + r.KID))
		sig, err := again.Sign(ctx, r, digest[:])
		if err != nil {
			t.Fatalf("Sign(%s) = %v", r.BackendRef, err)
		}
		pub, _ := keys.ParsePublicKey(r)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
			t.Errorf("signature by %s does not verify with its record's key: %v", r.BackendRef, err)
		}
	}

	// A key left in Vault (an app id reused, a record never stored) gets a
	// fresh version rather than one that may be in use.
	if _, err := srv.Client(t).Logical().Write("transit/keys/cosync-auth-app-left", map[string]any{"type": "rsa-2048"}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Generate(ctx, "left"); err != nil || r.BackendRef != "cosync-auth-app-left:2" {
		t.Errorf("Generate over an existing key = %+v, %v; want version 2", r, err)
	}
	// A key that could leave Vault is refused.
	if _, err := srv.Client(t).Logical().Write("transit/keys/cosync-auth-app-loose", map[string]any{"type": "rsa-2048", "exportable": true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Generate(ctx, "loose"); apperr.KindOf(err) != apperr.Precondition {
		t.Errorf("Generate over an exportable key = %v, want a Precondition error", err)
	}
	if sec, err := srv.Client(t).Logical().Read("transit/keys/cosync-auth-app-loose"); err != nil || fmt.Sprint(sec.Data["latest_version"]) != "1" {
		t.Errorf("the refused key was touched: latest_version %v, %v", sec.Data["latest_version"], err)
	}
}

func TestVaultSignRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v, _ := vaultClient(t, vaulttest.Start(t))
	s := keys.NewVaultSigner(v, keys.VaultConfig{})
	r1, err := s.Generate(ctx, "app1")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.Generate(ctx, "app1")
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("x"))
	local := r1
	local.Backend = keys.BackendLocal
	badRef := r1
	badRef.BackendRef = "cosync-auth-app-app1"
	swapped := r1 // version 1's kid and key, version 2's ref: Vault's signature will not match
	swapped.BackendRef = r2.BackendRef
	missing := r1
	missing.BackendRef = "cosync-auth-app-nope:1"
	tests := []struct {
		name   string
		rec    keys.Record
		digest []byte
		kind   apperr.Kind
	}{
		{"a local key", local, digest[:], apperr.Unavailable},
		{"a ref without version", badRef, digest[:], apperr.Internal},
		{"another version's signature", swapped, digest[:], apperr.Internal},
		{"a key Vault does not have", missing, digest[:], apperr.Internal},
		{"a digest that is not SHA-256", r1, digest[:20], apperr.Internal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := s.Sign(ctx, tc.rec, tc.digest)
			if err == nil || apperr.KindOf(err) != tc.kind {
				t.Errorf("Sign = %x, %v; want a %v error", sig, err, tc.kind)
			}
		})
	}
}

// TestVaultBatching signs 200 digests at once: every signature is right
// and distinct, and they take far fewer Transit calls than signatures.
func TestVaultBatching(t *testing.T) {
	t.Parallel()
	srv := vaulttest.Start(t)
	for _, tc := range []struct {
		name     string
		cfg      keys.VaultConfig
		maxCalls int64
	}{
		{"batched", keys.VaultConfig{BatchWindow: 5 * time.Millisecond, BatchSize: 32}, 40},
		{"unbatched", keys.VaultConfig{BatchWindow: -1}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			v, counter := vaultClient(t, srv)
			s := keys.NewVaultSigner(v, tc.cfg)
			rec, err := s.Generate(ctx, "batch-"+tc.name)
			if err != nil {
				t.Fatal(err)
			}
			pub, _ := keys.ParsePublicKey(rec)
			const n = 200
			sigs := make([][]byte, n)
			errs := make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					digest := sha256.Sum256(fmt.Appendf(nil, "token %d", i))
					sigs[i], errs[i] = s.Sign(ctx, rec, digest[:])
				})
			}
			close(start)
			wg.Wait()
			seen := map[string]bool{}
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("Sign %d = %v", i, errs[i])
				}
				digest := sha256.Sum256(fmt.Appendf(nil, "token %d", i))
				if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sigs[i]); err != nil {
					t.Fatalf("signature %d does not verify: %v", i, err)
				}
				seen[string(sigs[i])] = true
			}
			if len(seen) != n {
				t.Errorf("%d distinct signatures of %d distinct digests", len(seen), n)
			}
			calls := counter.signs.Load()
			t.Logf("%d signatures in %d Transit sign calls", n, calls)
			if calls > tc.maxCalls || (tc.cfg.BatchWindow < 0 && calls != n) {
				t.Errorf("%d Transit sign calls for %d signatures, want at most %d", calls, n, tc.maxCalls)
			}
		})
	}
}

// TestVaultOutage: a sealed or stopped Vault fails signing fast with
// Unavailable, and signing works again, with the same keys, once it is back.
func TestVaultOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := vaulttest.StartPersistent(t)
	v, _ := vaultClient(t, srv)
	s := keys.NewVaultSigner(v, keys.VaultConfig{})
	rec, err := s.Generate(ctx, "app1")
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("outage"))
	signs := func(what string) {
		t.Helper()
		if _, err := s.Sign(ctx, rec, digest[:]); err != nil {
			t.Fatalf("%s: Sign = %v", what, err)
		}
		if err := s.Check(ctx); err != nil {
			t.Fatalf("%s: Check = %v", what, err)
		}
	}
	fails := func(what string) {
		t.Helper()
		_, err := s.Sign(ctx, rec, digest[:])
		if apperr.KindOf(err) != apperr.Unavailable {
			t.Errorf("%s: Sign = %v, want Unavailable", what, err)
		}
		// Fast means refused, not waited out: a failure that came from the
		// per-call timeout would wrap DeadlineExceeded. No clock is read.
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: Sign = %v waited out its timeout, want it refused at once", what, err)
		}
		if err := s.Check(ctx); apperr.KindOf(err) != apperr.Unavailable {
			t.Errorf("%s: Check = %v, want Unavailable", what, err)
		}
		if _, err := s.Generate(ctx, "app2"); apperr.KindOf(err) != apperr.Unavailable {
			t.Errorf("%s: Generate = %v, want Unavailable", what, err)
		}
	}
	signs("up")
	srv.Seal(t)
	fails("sealed")
	srv.Unseal(t)
	signs("unsealed")
	srv.Stop(t)
	fails("stopped")
	srv.Restart(t)
	signs("restarted")
}
