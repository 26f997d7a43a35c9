package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"connectrpc.com/connect"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// replicaChanges returns a channel of the changes e's store hears of:
// its own and, on Postgres, the other replicas'.
func replicaChanges(e *env) <-chan [2]string {
	ch := make(chan [2]string, 256)
	e.p.store.OnChange(func(kind, id string) {
		select {
		case ch <- [2]string{kind, id}:
		default:
		}
	})
	return ch
}

// awaitChange reads ch until (kind, id) arrives; the test's deadline bounds it.
func awaitChange(t *testing.T, ch <-chan [2]string, kind, id string) {
	t.Helper()
	for {
		select {
		case c := <-ch:
			if c == [2]string{kind, id} {
				return
			}
		case <-t.Context().Done():
			t.Fatalf("the replica never heard of %s %s", kind, id)
		}
	}
}

// jwks fetches an app's JWKS from e with If-None-Match etag, returning the
// status, the new ETag and the kids.
func jwks(t *testing.T, e *env, app, etag string) (int, string, []string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+"/apps/"+app+"/.well-known/jwks.json", nil)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	res, err := e.http.Do(req)
	if err != nil {
		t.Fatalf("GET jwks: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	var kids []string
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &set); err != nil {
			t.Fatalf("jwks body %s: %v", b, err)
		}
		for _, k := range set.Keys {
			kids = append(kids, k.Kid)
		}
	}
	return res.StatusCode, res.Header.Get("ETag"), kids
}

// TestReplicasSeeChanges: two servers, each with its own Store (and
// caches) over one Postgres database, as two replicas. Both serve the
// app's settings and JWKS from memory (a repeated JWKS request with its
// ETag answers 304); a settings change or a key rotation on one replica is
// announced, and the other answers with it as soon as it hears, without a
// restart or a TTL.
func TestReplicasSeeChanges(t *testing.T) {
	t.Parallel()
	url := storetest.EmptyPostgres(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	replica := func() *env {
		st, err := store.Open(t.Context(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if err := st.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return newEnv(t, st, withMasterKeyOf(key))
	}
	one, two := replica(), replica()
	heard := replicaChanges(two)
	ctx := context.Background()

	dev := one.developer(t, "dev@example.com")
	app := one.noneFlowApp(t, dev, nil)
	// Replica two reads the app and its keys once, and caches them.
	two.signUpNone(t, app, "ann@example.com")
	status, etag, kids := jwks(t, two, app, "")
	if status != http.StatusOK || etag == "" || len(kids) != 1 {
		t.Fatalf("replica two JWKS = %d %q %v, want 200, an ETag and one key", status, etag, kids)
	}
	if status, _, _ := jwks(t, two, app, etag); status != http.StatusNotModified {
		t.Errorf("replica two JWKS with If-None-Match = %d, want 304", status)
	}

	one.update(t, dev, app, &adminv1.AppSettings{SignupEnabled: false}, "settings.signup_enabled")
	awaitChange(t, heard, store.ChangeApp, app)
	_, err := two.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "bo@example.com", Password: "long-enough-pw"})
	wantReason(t, "replica two SignUp after replica one turned signup off", err, connect.CodeFailedPrecondition, apperr.ReasonSignupDisabled)

	res, err := one.admin.RotateSigningKey(as(ctx, "", dev), &adminv1.RotateSigningKeyRequest{AppId: app})
	if err != nil {
		t.Fatalf("RotateSigningKey on replica one = %v", err)
	}
	newKid := res.GetKey().GetKid()
	awaitChange(t, heard, store.ChangeKeys, app)
	status, etag2, kids := jwks(t, two, app, etag)
	if status != http.StatusOK || etag2 == etag || len(kids) != 2 || kids[0] != newKid {
		t.Errorf("replica two JWKS after rotation = %d %q %v, want 200, a new ETag, %s first", status, etag2, kids, newKid)
	}
	tok := two.login(t, app, "ann@example.com", "long-enough-pw")
	if kid := kidOf(t, tok); kid != newKid {
		t.Errorf("replica two signs with %s after the rotation, want %s", kid, newKid)
	}
}
