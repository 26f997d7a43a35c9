package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/uptrace/bun/driver/pgdriver"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/notify/smtptest"
	"github.com/cosync/cosync-auth/internal/otp"
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

// TestReplicas runs three `serve` processes of the real binary on one
// Postgres database behind a round-robin proxy (procs_test.go), so that
// consecutive requests land on different replicas, and checks that what
// must be shared is shared: the walkthrough, a refresh race across
// replicas, rate limits, a key rotation and the mail queue.
//
// Postgres only: SQLite is one file opened by one process (the embedded
// default), with no LISTEN/NOTIFY to tell other processes about changes;
// several replicas need a database server.
func TestReplicas(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	t.Run("deployment", func(t *testing.T) {
		t.Parallel()
		// A low reset:ip limit, used by nothing but the rate-limit step.
		c := startCluster(t, bin, storetest.EmptyPostgres(t), 3, "COSYNC_RATE_LIMITS=reset:ip=5/1h")
		dev := c.developer(t, "dev@example.com")
		res, err := c.admin.CreateApp(as(t.Context(), "", dev), &adminv1.CreateAppRequest{
			Name: "Field Notes", Settings: &adminv1.AppSettings{Audience: []string{"atlas-app-id"}}})
		if err != nil {
			t.Fatalf("CreateApp = %v", err)
		}
		app := res.GetApp().GetId()
		// Each step needs the one before; they run in order, one request
		// at a time unless a step says otherwise, so the round robin
		// spreads each step's requests over every replica.
		sess := replicaWalkthrough(t, c, dev, app)
		replicaRefreshRace(t, c, app, sess)
		replicaRateLimit(t, c, app)
		replicaKeyRotation(t, c, dev, app)
	})
	t.Run("mail once", func(t *testing.T) {
		t.Parallel()
		replicaMailOnce(t, bin)
	})
}

// replicaWalkthrough: a user signs up with the mailed code, signs in,
// refreshes, and an outside verifier checks the token against the JWKS,
// with the calls spread over every replica. It returns the refreshed
// session.
func replicaWalkthrough(t *testing.T, c *cluster, dev, app string) *authv1.Session {
	t.Helper()
	var seen replicaSet
	var at int
	call := func() context.Context { return onReplica(as(t.Context(), app, ""), &at) }
	after := func() { seen.add(at) }

	if _, err := c.auth.SignUp(call(), &authv1.SignUpRequest{Handle: "ann@example.com", Password: "long-enough-pw"}); err != nil {
		t.Fatalf("SignUp = %v", err)
	}
	after()
	code := c.outboxCode(t, dev, app, "ann@example.com")
	done, err := c.auth.CompleteSignUp(call(), &authv1.CompleteSignUpRequest{Handle: "ann@example.com", Code: code})
	if err != nil {
		t.Fatalf("CompleteSignUp = %v", err)
	}
	after()
	login, err := c.auth.Login(call(), &authv1.LoginRequest{Handle: "ann@example.com", Password: "long-enough-pw"})
	if err != nil {
		t.Fatalf("Login = %v", err)
	}
	after()
	if done.GetSession().GetUser().GetId() != login.GetSession().GetUser().GetId() {
		t.Errorf("Login user %s, signed up as %s", login.GetSession().GetUser().GetId(), done.GetSession().GetUser().GetId())
	}
	ref, err := c.auth.RefreshSession(call(), &authv1.RefreshSessionRequest{RefreshToken: login.GetSession().GetRefreshToken()})
	if err != nil {
		t.Fatalf("RefreshSession = %v", err)
	}
	after()
	sess := ref.GetSession()
	u, err := c.auth.GetUser(onReplica(as(t.Context(), app, sess.GetAccessToken()), &at), &authv1.GetUserRequest{})
	if err != nil || u.GetUser().GetEmail() != "ann@example.com" {
		t.Fatalf("GetUser with the refreshed token = %v, %v", u, err)
	}
	after()

	// The outside verifier: go-jose with the JWKS fetched through the proxy.
	status, body, r := c.get(t, c.url+"/apps/"+app+"/.well-known/jwks.json")
	seen.add(r)
	if status != http.StatusOK {
		t.Fatalf("JWKS = %d %s", status, body)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("JWKS %s: %v", body, err)
	}
	tok, err := josejwt.ParseSigned(sess.GetAccessToken(), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys with the token's kid %q", len(keys), tok.Headers[0].KeyID)
	}
	var std josejwt.Claims
	if err := tok.Claims(keys[0].Key, &std); err != nil {
		t.Fatalf("the refreshed token does not verify against the JWKS: %v", err)
	}
	if err := std.ValidateWithLeeway(josejwt.Expected{Issuer: c.url + "/apps/" + app, AnyAudience: josejwt.Audience{"atlas-app-id"},
		Subject: u.GetUser().GetId(), Time: time.Now()}, time.Minute); err != nil {
		t.Errorf("claims: %v", err)
	}
	if !seen.all(3) {
		t.Errorf("the walkthrough reached replicas %v, want all three", &seen)
	}
	return sess
}

// outboxCode polls ListOutbox (through the proxy) for the code mailed to
// `to`. A replica's ListOutbox delivers what is due before listing, but a
// row another replica's worker holds is that worker's to deliver, so the
// code may show up a moment later.
func (c *cluster) outboxCode(t *testing.T, dev, app, to string) string {
	t.Helper()
	var code string
	eventually(t, "the signup code in the outbox", func() bool {
		res, err := c.admin.ListOutbox(as(t.Context(), "", dev), &adminv1.ListOutboxRequest{AppId: app})
		if err != nil {
			t.Fatalf("ListOutbox = %v", err)
		}
		for _, m := range res.GetMessages() {
			if m.GetTo() == to {
				if m := codeRE.FindStringSubmatch(m.GetText()); m != nil {
					code = m[1]
					return true
				}
			}
		}
		return false
	})
	return code
}

// sidOf returns the session id claim of an access token (unverified: the
// walkthrough verified the signatures).
func sidOf(t *testing.T, raw string) string {
	t.Helper()
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("ParseSigned = %v", err)
	}
	var c struct {
		SID string `json:"sid"`
	}
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil || c.SID == "" {
		t.Fatalf("sid of %s: %v", raw, err)
	}
	return c.SID
}

// replicaRefreshRace: one refresh token presented six times at once lands
// twice on each replica; within the grace every attempt gets a child in
// the same session. Presented again after the grace, on whichever replica,
// it is reuse: the session ends, and every replica refuses its children
// and their access tokens.
func replicaRefreshRace(t *testing.T, c *cluster, app string, parent *authv1.Session) {
	t.Helper()
	sid := sidOf(t, parent.GetAccessToken())
	const attempts = 6
	children := make([]*authv1.Session, attempts)
	errs := make([]error, attempts)
	at := make([]int, attempts)
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			res, err := c.auth.RefreshSession(onReplica(as(t.Context(), app, ""), &at[i]),
				&authv1.RefreshSessionRequest{RefreshToken: parent.GetRefreshToken()})
			children[i], errs[i] = res.GetSession(), err
		})
	}
	wg.Wait()
	var seen replicaSet
	tokens := map[string]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent refresh %d on replica %d = %v; want a child within the grace", i, at[i], err)
		}
		seen.add(at[i])
		tokens[children[i].GetRefreshToken()] = true
		if got := sidOf(t, children[i].GetAccessToken()); got != sid {
			t.Errorf("child %d (replica %d) is in session %s, want the family's %s", i, at[i], got, sid)
		}
	}
	if !seen.all(3) || len(tokens) != attempts || tokens[parent.GetRefreshToken()] {
		t.Fatalf("race reached replicas %v with %d distinct new refresh tokens; want all three replicas and %d new tokens", &seen, len(tokens), attempts)
	}

	// The grace is 30 s of wall time; rather than wait it out, move the
	// parent's rotation a minute into the past, as if the reuse came later.
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(storetest.DriverURL(t, c.dbURL))))
	defer db.Close()
	r, err := db.ExecContext(t.Context(), `UPDATE refresh_tokens SET rotated_at = rotated_at - interval '1 minute'
		WHERE app_id = $1 AND hash = $2 AND rotated_at IS NOT NULL`, app, otp.HashToken(parent.GetRefreshToken()))
	if err != nil {
		t.Fatalf("backdating the parent's rotation: %v", err)
	}
	if n, err := r.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("backdating the parent's rotation changed %d rows (%v), want one", n, err)
	}
	var who int
	_, err = c.auth.RefreshSession(onReplica(as(t.Context(), app, ""), &who), &authv1.RefreshSessionRequest{RefreshToken: parent.GetRefreshToken()})
	wantReason(t, fmt.Sprintf("reused refresh token after the grace (replica %d)", who), err, connect.CodeUnauthenticated, apperr.ReasonRefreshTokenReused)

	var refused, denied replicaSet
	for i, child := range children {
		var r int
		_, err := c.auth.RefreshSession(onReplica(as(t.Context(), app, ""), &r), &authv1.RefreshSessionRequest{RefreshToken: child.GetRefreshToken()})
		wantReason(t, fmt.Sprintf("child %d refresh on replica %d after reuse", i, r), err, connect.CodeUnauthenticated, apperr.ReasonSessionRevoked)
		refused.add(r)
		_, err = c.auth.GetUser(onReplica(as(t.Context(), app, child.GetAccessToken()), &r), &authv1.GetUserRequest{})
		wantReason(t, fmt.Sprintf("GetUser with child %d's access token on replica %d after reuse", i, r), err, connect.CodeUnauthenticated, apperr.ReasonSessionRevoked)
		denied.add(r)
	}
	if !refused.all(3) || !denied.all(3) {
		t.Errorf("revocation checked on replicas %v (refresh) and %v (GetUser), want all three each", &refused, &denied)
	}
}

// replicaRateLimit: with reset:ip at 5 an hour, five ForgotPassword calls
// spread over the replicas pass and every later one is refused, on every
// replica: the count lives in Postgres, not in a replica. Each call claims
// another X-Forwarded-For address; the replicas take the proxy's entry,
// so the claims change nothing.
func replicaRateLimit(t *testing.T, c *cluster, app string) {
	t.Helper()
	var passed, refused replicaSet
	for i := range 8 {
		var r int
		ctx := onReplica(claimingToBe(as(t.Context(), app, ""), fmt.Sprintf("198.51.100.%d", i+1)), &r)
		_, err := c.auth.ForgotPassword(ctx, &authv1.ForgotPasswordRequest{Handle: fmt.Sprintf("nobody%d@example.com", i)})
		if i < 5 {
			if err != nil {
				t.Fatalf("ForgotPassword %d (replica %d) = %v, want success under the limit of 5", i+1, r, err)
			}
			passed.add(r)
			continue
		}
		wantReason(t, fmt.Sprintf("ForgotPassword %d (replica %d)", i+1, r), err, connect.CodeResourceExhausted, apperr.ReasonRateLimited)
		refused.add(r)
	}
	if !passed.all(3) || !refused.all(3) {
		t.Errorf("passed on replicas %v and refused on %v, want all three each", &passed, &refused)
	}
}

// replicaKeyRotation: RotateSigningKey on one replica; every replica soon
// signs with the new key and lists it in its JWKS.
func replicaKeyRotation(t *testing.T, c *cluster, dev, app string) {
	t.Helper()
	login, err := c.auth.Login(as(t.Context(), app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "long-enough-pw"})
	if err != nil {
		t.Fatalf("Login = %v", err)
	}
	refresh := login.GetSession().GetRefreshToken()
	var by int
	res, err := c.admin.RotateSigningKey(onReplica(as(t.Context(), "", dev), &by), &adminv1.RotateSigningKeyRequest{AppId: app})
	if err != nil {
		t.Fatalf("RotateSigningKey = %v", err)
	}
	newKid := res.GetKey().GetKid()
	var signs, lists replicaSet
	var last string
	eventually(t, fmt.Sprintf("every replica signing with and listing key %s rotated on replica %d (signing: %v, listing: %v)", newKid, by, &signs, &lists), func() bool {
		var r int
		ref, err := c.auth.RefreshSession(onReplica(as(t.Context(), app, ""), &r), &authv1.RefreshSessionRequest{RefreshToken: refresh})
		if err != nil {
			t.Fatalf("RefreshSession (replica %d) = %v", r, err)
		}
		refresh = ref.GetSession().GetRefreshToken()
		if kidOf(t, ref.GetSession().GetAccessToken()) == newKid {
			signs.add(r)
			last = ref.GetSession().GetAccessToken()
		}
		status, body, r := c.get(t, c.url+"/apps/"+app+"/.well-known/jwks.json")
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(body, &set); status != http.StatusOK || err != nil {
			t.Fatalf("JWKS (replica %d) = %d %s", r, status, body)
		}
		if len(set.Key(newKid)) == 1 {
			lists.add(r)
		}
		return signs.all(3) && lists.all(3)
	})
	// A token signed with the new key verifies against the published JWKS.
	_, body, _ := c.get(t, c.url+"/apps/"+app+"/.well-known/jwks.json")
	var set jose.JSONWebKeySet
	_ = json.Unmarshal(body, &set)
	tok, err := josejwt.ParseSigned(last, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var std josejwt.Claims
	if err := tok.Claims(set.Key(newKid)[0].Key, &std); err != nil {
		t.Errorf("a token signed with the rotated key does not verify against the JWKS: %v", err)
	}
}

// replicaMailOnce: with real SMTP and every replica's queue worker
// running, signups spread over the replicas mail each code exactly once.
// A delivery is marked sent only after the SMTP server took it, and each
// claim counts an attempt, so once every row is sent after one attempt no
// worker can send it again: counting then is final, not a snapshot.
func replicaMailOnce(t *testing.T, bin string) {
	smtp := smtptest.Start(t)
	c := startCluster(t, bin, storetest.EmptyPostgres(t), 3, "COSYNC_SMTP_URL="+smtp.URL())
	dev := c.developer(t, "dev@example.com")
	res, err := c.admin.CreateApp(as(t.Context(), "", dev), &adminv1.CreateAppRequest{Name: "Mail"})
	if err != nil {
		t.Fatalf("CreateApp = %v", err)
	}
	app := res.GetApp().GetId()
	const n = 9
	var seen replicaSet
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var r int
			_, err := c.auth.SignUp(onReplica(as(t.Context(), app, ""), &r), &authv1.SignUpRequest{
				Handle: fmt.Sprintf("user%d@example.com", i), Password: "long-enough-pw"})
			if err != nil {
				t.Errorf("SignUp %d (replica %d) = %v", i, r, err)
			}
			seen.add(r)
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if !seen.all(3) {
		t.Errorf("signups reached replicas %v, want all three", &seen)
	}
	var sent []*adminv1.Delivery
	eventually(t, fmt.Sprintf("%d deliveries sent", n), func() bool {
		res, err := c.admin.ListDeliveries(as(t.Context(), "", dev), &adminv1.ListDeliveriesRequest{
			AppId: app, State: adminv1.DeliveryState_DELIVERY_STATE_SENT, PageSize: 500})
		if err != nil {
			t.Fatalf("ListDeliveries = %v", err)
		}
		sent = res.GetDeliveries()
		return len(sent) >= n
	})
	for _, d := range sent {
		if d.GetAttempts() != 1 {
			t.Errorf("delivery to %s took %d attempts, want 1", d.GetTo(), d.GetAttempts())
		}
	}
	per := map[string]int{}
	for _, m := range smtp.Messages() {
		for _, to := range m.To {
			per[to]++
		}
	}
	for i := range n {
		if to := fmt.Sprintf("user%d@example.com", i); per[to] != 1 {
			t.Errorf("%s got %d mails, want 1", to, per[to])
		}
	}
	if got := len(smtp.Messages()); got != n || len(sent) != n {
		t.Errorf("the SMTP server received %d mails and %d deliveries are sent, want %d of each", got, len(sent), n)
	}
}
