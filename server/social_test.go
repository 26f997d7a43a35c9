package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/social"
	"github.com/cosync/cosync-auth/internal/social/socialtest"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

const (
	bundleID = "com.example.notes"
	clientID = "notes-web.apps.googleusercontent.com"
	apple    = authv1.Provider_PROVIDER_APPLE
	google   = authv1.Provider_PROVIDER_GOOGLE
)

// socialEnv is a server whose Apple and Google are local IdPs over HTTP,
// minting on the server's clock, and a developer to make apps with.
type socialEnv struct {
	*env
	apple, google *socialtest.IdP
	dev           string
}

func withIdPs(apple, google *socialtest.IdP) envOption {
	return func(c *config.Config) { c.AppleJWKSURL, c.GoogleJWKSURL = apple.URL, google.URL }
}

func newSocialEnv(t *testing.T, st *store.Store) *socialEnv {
	t.Helper()
	a, g := socialtest.Start(t, social.Apple), socialtest.Start(t, social.Google)
	e := newEnv(t, st, withIdPs(a, g))
	a.Now, g.Now = e.clock.Now, e.clock.Now
	return &socialEnv{env: e, apple: a, google: g, dev: e.developer(t, "dev@example.com")}
}

func eachSocial(t *testing.T, fn func(t *testing.T, e *socialEnv)) {
	storetest.Each(t, func(t *testing.T, s *store.Store) { fn(t, newSocialEnv(t, s)) })
}

// app creates an app with Apple and Google sign-in whose signup requires
// user_data.name and offers profile.given_name; change adjusts the settings.
func (e *socialEnv) app(t *testing.T, change func(*adminv1.AppSettings)) string {
	t.Helper()
	st := &adminv1.AppSettings{
		Apple:  &adminv1.AppleSettings{Enabled: true, BundleIds: []string{bundleID, bundleID + ".watch"}},
		Google: &adminv1.GoogleSettings{Enabled: true, ClientIds: []string{clientID}},
		SignupMetadataFields: []*authv1.MetadataField{
			{Path: "user_data.name", Name: "Name", Required: true, Type: authv1.MetadataFieldType_METADATA_FIELD_TYPE_STRING},
			{Path: "profile.given_name", Name: "Given name", Type: authv1.MetadataFieldType_METADATA_FIELD_TYPE_STRING},
		},
	}
	if change != nil {
		change(st)
	}
	res, err := e.admin.CreateApp(as(context.Background(), "", e.dev), &adminv1.CreateAppRequest{Name: "Notes", Settings: st})
	if err != nil {
		t.Fatalf("CreateApp = %v", err)
	}
	return res.GetApp().GetId()
}

// set changes app settings named by paths (under settings.).
func (e *socialEnv) set(t *testing.T, app string, st *adminv1.AppSettings, paths ...string) {
	t.Helper()
	for i, p := range paths {
		paths[i] = "settings." + p
	}
	_, err := e.admin.UpdateApp(as(context.Background(), "", e.dev), &adminv1.UpdateAppRequest{
		AppId: app, Settings: st, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths},
	})
	if err != nil {
		t.Fatalf("UpdateApp(%v) = %v", paths, err)
	}
}

func (e *socialEnv) idp(p authv1.Provider) *socialtest.IdP {
	if p == google {
		return e.google
	}
	return e.apple
}

// token mints an ID token of provider for sub and email, for the app.
func (e *socialEnv) token(t *testing.T, p authv1.Provider, sub, email string) string {
	t.Helper()
	aud := bundleID
	if p == google {
		aud = clientID
	}
	return e.idp(p).MustMint(t, socialtest.Token{Subject: sub, Audience: aud, Email: email})
}

var annMetadata = map[string]any{"user_data": map[string]any{"name": "Ann"}}

// socialLogin signs in with raw and the metadata a signup needs.
func (e *socialEnv) socialLogin(t *testing.T, app string, p authv1.Provider, raw, nonce string) (*authv1.SocialLoginResponse, error) {
	t.Helper()
	return e.auth.SocialLogin(as(context.Background(), app, ""), &authv1.SocialLoginRequest{
		Provider: p, IdToken: raw, Nonce: nonce, Metadata: mustStruct(t, annMetadata),
	})
}

// mustSession signs in and returns the session, failing t otherwise.
func (e *socialEnv) mustSession(t *testing.T, app string, p authv1.Provider, raw, nonce string) *authv1.Session {
	t.Helper()
	res, err := e.socialLogin(t, app, p, raw, nonce)
	if err != nil {
		t.Fatalf("SocialLogin = %v", err)
	}
	if res.GetSession() == nil {
		t.Fatalf("SocialLogin = %v, want a session", res)
	}
	return res.GetSession()
}

func providersOf(u *authv1.User) []authv1.Provider {
	var out []authv1.Provider
	for _, li := range u.GetIdentities() {
		out = append(out, li.GetProvider())
	}
	return out
}

// wantRefused fails t unless err has code and reason, and names field (if any).
func wantRefused(t *testing.T, what string, err error, code connect.Code, why apperr.Reason, field string) {
	t.Helper()
	gotCode, gotWhy := reason(err)
	if err == nil || gotCode != code || gotWhy != why {
		t.Errorf("%s = %v (%v %q), want %v %q", what, err, gotCode, gotWhy, code, why)
		return
	}
	if field != "" && !slices.Contains(fields(err), field) {
		t.Errorf("%s names fields %v, want %s", what, fields(err), field)
	}
}

// TestSocialLoginRefusesBadTokens: every way an ID token can be wrong is
// refused with its reason and the field, and creates nobody.
func TestSocialLoginRefusesBadTokens(t *testing.T) {
	t.Parallel()
	eachSocial(t, func(t *testing.T, e *socialEnv) {
		app := e.app(t, func(s *adminv1.AppSettings) { s.Google = &adminv1.GoogleSettings{} }) // Google off
		now := e.clock.Now()
		good := socialtest.Token{Subject: "001.ann", Audience: bundleID, Email: "ann@example.com"}
		with := func(fn func(*socialtest.Token)) string { tok := good; fn(&tok); return e.apple.MustMint(t, tok) }
		tests := []struct {
			name     string
			provider authv1.Provider
			raw      string
			nonce    string
			code     connect.Code
			reason   apperr.Reason
			field    string
		}{
			{"wrong audience", apple, with(func(t *socialtest.Token) { t.Audience = "com.attacker.app" }), "", connect.CodeUnauthenticated, apperr.ReasonIDTokenInvalid, "id_token"},
			{"wrong issuer", apple, with(func(t *socialtest.Token) { t.Issuer = "https://appleid.example.com" }), "", connect.CodeUnauthenticated, apperr.ReasonIDTokenInvalid, "id_token"},
			{"expired", apple, with(func(t *socialtest.Token) { t.IssuedAt = now.Add(-12 * time.Minute) }), "", connect.CodeUnauthenticated, apperr.ReasonIDTokenInvalid, "id_token"},
			{"issued in the future", apple, with(func(t *socialtest.Token) { t.IssuedAt = now.Add(3 * time.Minute) }), "", connect.CodeUnauthenticated, apperr.ReasonIDTokenInvalid, "id_token"},
			{"bad signature", apple, with(func(t *socialtest.Token) { t.Forged = true }), "", connect.CodeUnauthenticated, apperr.ReasonIDTokenInvalid, "id_token"},
			{"an Apple token sent as Google's", google, with(func(*socialtest.Token) {}), "", connect.CodeFailedPrecondition, apperr.ReasonProviderDisabled, ""},
			{"not a JWT", apple, "not-a-token", "", connect.CodeUnauthenticated, apperr.ReasonIDTokenInvalid, "id_token"},
			{"wrong nonce", apple, with(func(t *socialtest.Token) { t.Nonce = "n-1" }), "n-2", connect.CodeUnauthenticated, apperr.ReasonNonceInvalid, "nonce"},
			{"nonce withheld", apple, with(func(t *socialtest.Token) { t.Nonce = "n-1" }), "", connect.CodeUnauthenticated, apperr.ReasonNonceInvalid, "nonce"},
			{"disabled provider", google, e.token(t, google, "1098", "ann@example.com"), "", connect.CodeFailedPrecondition, apperr.ReasonProviderDisabled, ""},
			{"no token", apple, "", "", connect.CodeInvalidArgument, "", "id_token"},
			{"no provider", authv1.Provider_PROVIDER_UNSPECIFIED, with(func(*socialtest.Token) {}), "", connect.CodeInvalidArgument, "", "provider"},
			{"unknown provider", authv1.Provider(9), with(func(*socialtest.Token) {}), "", connect.CodeInvalidArgument, "", "provider"},
			{"overlong token", apple, strings.Repeat("a", 8193), "", connect.CodeInvalidArgument, "", "id_token"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.socialLogin(t, app, tt.provider, tt.raw, tt.nonce)
				want := tt.reason
				if want == "" {
					_, want = reason(err) // protovalidate's own reason; the code and field are what matter
				}
				wantRefused(t, "SocialLogin("+tt.name+")", err, tt.code, want, tt.field)
			})
		}
		if _, err := e.p.store.FindUserByEmail(context.Background(), app, "ann@example.com"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("after refused sign-ins FindUserByEmail = %v, want NotFound", err)
		}
		if _, err := e.p.store.FindIdentity(context.Background(), app, social.Apple, "001.ann"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("after refused sign-ins FindIdentity = %v, want NotFound", err)
		}
		// The nonce of the refused "wrong nonce" token was not spent.
		raw := with(func(t *socialtest.Token) { t.Nonce = "n-1" })
		e.mustSession(t, app, apple, raw, "n-1")
	})
}

// TestSocialLoginUnknownKey: an ID token signed with a key the server has
// not seen makes it fetch Apple's JWKS once more, then refuses it; a key
// Apple rotated in is picked up the same way.
func TestSocialLoginUnknownKey(t *testing.T) {
	t.Parallel()
	e := newSocialEnv(t, sqliteStore(t))
	app := e.app(t, nil)
	e.mustSession(t, app, apple, e.token(t, apple, "001.ann", "ann@example.com"), "")
	if n := e.apple.Fetches(); n != 1 {
		t.Fatalf("after one sign-in the JWKS was fetched %d times, want 1", n)
	}
	e.clock.Advance(2 * time.Minute) // past the refresh cooldown
	unknown := e.apple.MustMint(t, socialtest.Token{Subject: "001.ann", Audience: bundleID, KeyID: "apple-unpublished"})
	for i := range 3 {
		_, err := e.socialLogin(t, app, apple, unknown, "")
		wantRefused(t, "SocialLogin(unknown kid)", err, connect.CodeUnauthenticated, apperr.ReasonIDTokenInvalid, "id_token")
		if n := e.apple.Fetches(); n != 2 {
			t.Fatalf("after %d unknown-kid sign-ins the JWKS was fetched %d times, want 2 (one refresh)", i+1, n)
		}
	}
	if _, err := e.apple.Rotate(); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute)
	e.mustSession(t, app, apple, e.token(t, apple, "001.ann", "ann@example.com"), "")
	if n := e.apple.Fetches(); n != 3 {
		t.Errorf("a rotated key fetched the JWKS %d times in all, want 3", n)
	}
}

// TestSocialSignUp: the first sign-in creates the user from the token (and
// the name Apple gives the app once), with signup metadata checked as for
// SignUp; the next finds the same user by provider and subject.
func TestSocialSignUp(t *testing.T) {
	t.Parallel()
	eachSocial(t, func(t *testing.T, e *socialEnv) {
		ctx := context.Background()
		app := e.app(t, nil)
		raw := e.token(t, apple, "001.ann", "Ann@Example.com")

		_, err := e.auth.SocialLogin(as(ctx, app, ""), &authv1.SocialLoginRequest{Provider: apple, IdToken: raw})
		wantRefused(t, "SocialLogin(no metadata)", err, connect.CodeInvalidArgument, apperr.ReasonMetadataInvalid, "metadata.user_data.name")
		_, err = e.auth.SocialLogin(as(ctx, app, ""), &authv1.SocialLoginRequest{Provider: apple, IdToken: raw,
			Metadata: mustStruct(t, map[string]any{"user_data": map[string]any{"name": 7.0}})})
		wantRefused(t, "SocialLogin(metadata of the wrong type)", err, connect.CodeInvalidArgument, apperr.ReasonMetadataInvalid, "metadata.user_data.name")
		_, err = e.auth.SocialLogin(as(ctx, app, ""), &authv1.SocialLoginRequest{Provider: apple, IdToken: raw,
			Metadata: mustStruct(t, annMetadata), Locale: "fr"})
		wantRefused(t, "SocialLogin(unsupported locale)", err, connect.CodeInvalidArgument, apperr.ReasonLocaleUnsupported, "locale")

		res, err := e.auth.SocialLogin(as(ctx, app, ""), &authv1.SocialLoginRequest{Provider: apple, IdToken: raw,
			GivenName: "Ann", FamilyName: "Lee", Metadata: mustStruct(t, annMetadata)})
		if err != nil {
			t.Fatalf("SocialLogin(first) = %v", err)
		}
		u := res.GetSession().GetUser()
		md := u.GetMetadata().AsMap()
		if u.GetEmail() != "ann@example.com" || u.GetHasPassword() || !slices.Equal(providersOf(u), []authv1.Provider{apple}) ||
			md["profile"].(map[string]any)["given_name"] != "Ann" || md["user_data"].(map[string]any)["name"] != "Ann" {
			t.Errorf("first SocialLogin user = %v; want ann@example.com, no password, Apple linked, given_name from the request", u)
		}
		if li := u.GetIdentities()[0]; li.GetSubject() != "001.ann" || li.GetEmail() != "ann@example.com" || li.GetLinkedAt() == nil {
			t.Errorf("identity = %v", li)
		}
		stored, err := e.p.store.FindIdentity(ctx, app, social.Apple, "001.ann")
		if err != nil || stored.GivenName != "Ann" || stored.FamilyName != "Lee" || stored.UserID != u.GetId() {
			t.Errorf("stored identity = %+v, %v; want the name Apple gave, for user %s", stored, err, u.GetId())
		}
		got, err := e.auth.GetUser(as(ctx, app, res.GetSession().GetAccessToken()), &authv1.GetUserRequest{})
		if err != nil || got.GetUser().GetId() != u.GetId() || !slices.Equal(providersOf(got.GetUser()), []authv1.Provider{apple}) {
			t.Fatalf("GetUser with the social session = %v, %v; want the user with Apple linked", got, err)
		}

		// Again, later: same user, no name sent, nothing required.
		e.clock.Advance(time.Minute)
		again, err := e.auth.SocialLogin(as(ctx, app, ""), &authv1.SocialLoginRequest{Provider: apple, IdToken: e.token(t, apple, "001.ann", "ann@example.com")})
		if err != nil || again.GetSession().GetUser().GetId() != u.GetId() {
			t.Fatalf("SocialLogin(again) = %v, %v; want user %s", again, err, u.GetId())
		}
		if _, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "anything-at-all"}); err == nil {
			t.Errorf("password Login of a social-only user succeeded")
		}

		// Apple's private relay addresses are accepted like any other.
		relay := e.apple.MustMint(t, socialtest.Token{Subject: "002.bo", Audience: bundleID + ".watch", Email: "x7q@privaterelay.appleid.com", PrivateEmail: true})
		if s := e.mustSession(t, app, apple, relay, ""); s.GetUser().GetEmail() != "x7q@privaterelay.appleid.com" {
			t.Errorf("private relay signup email = %q", s.GetUser().GetEmail())
		}
		// A Google token carries the name itself.
		gt := e.google.MustMint(t, socialtest.Token{Subject: "1098", Audience: clientID, Email: "cy@example.com", GivenName: "Cy", FamilyName: "Ng"})
		if s := e.mustSession(t, app, google, gt, ""); s.GetUser().GetMetadata().AsMap()["profile"].(map[string]any)["given_name"] != "Cy" {
			t.Errorf("Google signup metadata = %v, want given_name from the token", s.GetUser().GetMetadata())
		}

		// Signup off: new people are refused, known ones still sign in.
		e.set(t, app, &adminv1.AppSettings{}, "signup_enabled")
		_, err = e.socialLogin(t, app, apple, e.token(t, apple, "003.di", "di@example.com"), "")
		wantRefused(t, "SocialLogin(new person, signup off)", err, connect.CodeFailedPrecondition, apperr.ReasonSignupDisabled, "")
		if s := e.mustSession(t, app, apple, e.token(t, apple, "001.ann", "ann@example.com"), ""); s.GetUser().GetId() != u.GetId() {
			t.Errorf("known person with signup off signed in as %s, want %s", s.GetUser().GetId(), u.GetId())
		}
	})
}

// TestSocialLinkingByEmail: the same person's other provider, with a
// verified email that already has an account, is refused by default with a
// message naming how that account signs in, and linked when the app links
// verified emails. Unverified emails never link.
func TestSocialLinkingByEmail(t *testing.T) {
	t.Parallel()
	eachSocial(t, func(t *testing.T, e *socialEnv) {
		ctx := context.Background()
		app := e.app(t, nil)
		pw := e.signUp(t, e.dev, app, "ann@example.com").GetUser() // a password account
		bo := e.mustSession(t, app, apple, e.token(t, apple, "001.bo", "bo@example.com"), "").GetUser()

		unverified := e.google.MustMint(t, socialtest.Token{Subject: "g-mallory", Audience: clientID, Email: "ann@example.com", EmailUnverified: true})
		tests := []struct {
			name      string
			link      bool // the app's link_verified_emails
			provider  authv1.Provider
			raw       string
			wantUser  string // the user signed in; "" for refused, "new" for a new user
			wantInMsg string // for refusals: the existing method named
		}{
			{"google for a password account", false, google, e.token(t, google, "g-ann", "ann@example.com"), "", "password"},
			{"google for an apple account", false, google, e.token(t, google, "g-bo", "bo@example.com"), "", "Apple"},
			{"apple for a password account", false, apple, e.token(t, apple, "001.ann", "ANN@example.com"), "", "password"},
			{"unverified email, links off", false, google, unverified, "new", ""},
			{"google for a password account, linking on", true, google, e.token(t, google, "g-ann", "ann@example.com"), pw.GetId(), ""},
			{"google for an apple account, linking on", true, google, e.token(t, google, "g-bo", "bo@example.com"), bo.GetId(), ""},
			{"unverified email, linking on", true, google, e.google.MustMint(t, socialtest.Token{Subject: "g-eve", Audience: clientID, Email: "bo@example.com", EmailUnverified: true}), "new", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.set(t, app, &adminv1.AppSettings{LinkVerifiedEmails: tt.link}, "link_verified_emails")
				res, err := e.socialLogin(t, app, tt.provider, tt.raw, "")
				switch tt.wantUser {
				case "":
					wantRefused(t, "SocialLogin", err, connect.CodeAlreadyExists, apperr.ReasonAccountExists, "")
					if err != nil && !strings.Contains(err.Error(), tt.wantInMsg) {
						t.Errorf("SocialLogin = %v, want the message to name %q", err, tt.wantInMsg)
					}
				case "new":
					if err != nil {
						t.Fatalf("SocialLogin = %v, want a new user", err)
					}
					u := res.GetSession().GetUser()
					if u.GetId() == pw.GetId() || u.GetId() == bo.GetId() || u.GetEmail() != "" {
						t.Errorf("SocialLogin with an unverified email = user %s email %q; want a new user without that email", u.GetId(), u.GetEmail())
					}
				default:
					if err != nil {
						t.Fatalf("SocialLogin = %v, want user %s", err, tt.wantUser)
					}
					if u := res.GetSession().GetUser(); u.GetId() != tt.wantUser || !slices.Contains(providersOf(u), tt.provider) {
						t.Errorf("SocialLogin = user %s with %v, want %s with %v linked", u.GetId(), providersOf(u), tt.wantUser, tt.provider)
					}
				}
			})
		}
		// Once linked, the identity signs in by its subject whatever the setting.
		e.set(t, app, &adminv1.AppSettings{}, "link_verified_emails")
		if s := e.mustSession(t, app, google, e.token(t, google, "g-ann", "ann@example.com"), ""); s.GetUser().GetId() != pw.GetId() {
			t.Errorf("linked Google identity signed in as %s, want %s", s.GetUser().GetId(), pw.GetId())
		}
		// The refusal with linking off created nothing.
		if _, err := e.p.store.FindIdentity(ctx, app, social.Apple, "001.ann"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("refused Apple sign-in left an identity: %v", err)
		}
	})
}

// TestSocialNonceReplay: a token with a nonce signs in once; the same token
// again is a replay, even when the requests race, on any store.
func TestSocialNonceReplay(t *testing.T) {
	t.Parallel()
	eachSocial(t, func(t *testing.T, e *socialEnv) {
		app := e.app(t, nil)
		for _, p := range []authv1.Provider{apple, google} {
			aud := bundleID
			if p == google {
				aud = clientID
			}
			raw := e.idp(p).MustMint(t, socialtest.Token{Subject: "racer-" + p.String(), Audience: aud, Email: p.String() + "@example.com", Nonce: "nonce-" + p.String()})
			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				sessions int
				reasons  = map[apperr.Reason]int{}
			)
			for range 10 {
				wg.Go(func() {
					res, err := e.socialLogin(t, app, p, raw, "nonce-"+p.String())
					mu.Lock()
					defer mu.Unlock()
					if err == nil && res.GetSession() != nil {
						sessions++
					}
					_, r := reason(err)
					reasons[r]++
				})
			}
			wg.Wait()
			if sessions != 1 || reasons[apperr.ReasonNonceInvalid] != 9 {
				t.Errorf("%v: 10 racing sign-ins with one nonce gave %d sessions and reasons %v; want 1 and 9 NONCE_INVALID", p, sessions, reasons)
			}
			_, err := e.socialLogin(t, app, p, raw, "nonce-"+p.String())
			wantRefused(t, p.String()+" replay", err, connect.CodeUnauthenticated, apperr.ReasonNonceInvalid, "nonce")
		}
	})
}

// TestSocialFirstSignInRace: the same new person's token (without a nonce)
// arriving several times at once makes one user, and every request signs in.
func TestSocialFirstSignInRace(t *testing.T) {
	t.Parallel()
	eachSocial(t, func(t *testing.T, e *socialEnv) {
		app := e.app(t, nil)
		raw := e.token(t, google, "g-racer", "racer@example.com")
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			ids = map[string]int{}
		)
		for range 8 {
			wg.Go(func() {
				res, err := e.socialLogin(t, app, google, raw, "")
				if err != nil {
					t.Errorf("racing first SocialLogin = %v", err)
					return
				}
				mu.Lock()
				ids[res.GetSession().GetUser().GetId()]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(ids) != 1 {
			t.Errorf("8 racing first sign-ins made users %v, want one", ids)
		}
	})
}

// TestLinkUnlink: a signed-in user links and unlinks Apple and Google, and
// can never remove the last way to sign in.
func TestLinkUnlink(t *testing.T) {
	t.Parallel()
	eachSocial(t, func(t *testing.T, e *socialEnv) {
		ctx := context.Background()
		app := e.app(t, nil)
		pwSess := e.signUp(t, e.dev, app, "ann@example.com")
		annCtx := as(ctx, app, pwSess.GetAccessToken())
		other := e.mustSession(t, app, google, e.token(t, google, "g-other", "other@example.com"), "").GetUser()

		link := func(c context.Context, p authv1.Provider, raw string) (*authv1.User, error) {
			res, err := e.auth.LinkIdentity(c, &authv1.LinkIdentityRequest{Provider: p, IdToken: raw})
			return res.GetUser(), err
		}
		unlink := func(c context.Context, p authv1.Provider) (*authv1.User, error) {
			res, err := e.auth.UnlinkIdentity(c, &authv1.UnlinkIdentityRequest{Provider: p})
			return res.GetUser(), err
		}

		u, err := link(annCtx, apple, e.token(t, apple, "001.ann", "ann@icloud.com"))
		if err != nil || !slices.Equal(providersOf(u), []authv1.Provider{apple}) || u.GetId() != pwSess.GetUser().GetId() {
			t.Fatalf("LinkIdentity(apple) = %v, %v; want Apple linked to Ann", u, err)
		}
		if u, err := link(annCtx, apple, e.token(t, apple, "001.ann", "ann@icloud.com")); err != nil || len(u.GetIdentities()) != 1 {
			t.Errorf("LinkIdentity(the same apple id again) = %v, %v; want no change", u, err)
		}
		_, err = link(annCtx, apple, e.token(t, apple, "002.second", ""))
		wantRefused(t, "LinkIdentity(a second apple id)", err, connect.CodeAlreadyExists, apperr.ReasonAlreadyExists, "")
		_, err = link(annCtx, google, e.token(t, google, "g-other", "other@example.com"))
		wantRefused(t, "LinkIdentity(another user's google)", err, connect.CodeAlreadyExists, apperr.ReasonAccountExists, "")
		_, err = link(as(ctx, app, ""), apple, e.token(t, apple, "003", ""))
		wantRefused(t, "LinkIdentity(signed out)", err, connect.CodeUnauthenticated, apperr.ReasonTokenMissing, "")
		_, err = link(annCtx, apple, e.apple.MustMint(t, socialtest.Token{Subject: "004", Audience: "com.attacker"}))
		wantRefused(t, "LinkIdentity(wrong audience)", err, connect.CodeUnauthenticated, apperr.ReasonIDTokenInvalid, "id_token")

		// Signing in with the linked Apple id is signing in as Ann.
		if s := e.mustSession(t, app, apple, e.token(t, apple, "001.ann", "ann@icloud.com"), ""); s.GetUser().GetId() != pwSess.GetUser().GetId() {
			t.Errorf("linked Apple sign-in = user %s, want Ann", s.GetUser().GetId())
		}

		// Ann has a password: Apple may go.
		if u, err := unlink(annCtx, apple); err != nil || len(u.GetIdentities()) != 0 || !u.GetHasPassword() {
			t.Fatalf("UnlinkIdentity(apple) = %v, %v; want no identities, password kept", u, err)
		}
		_, err = unlink(annCtx, apple)
		wantRefused(t, "UnlinkIdentity(apple again)", err, connect.CodeNotFound, apperr.ReasonNotFound, "")

		// The Google-only user cannot drop Google, until Apple is linked too.
		otherCtx := as(ctx, app, e.mustSession(t, app, google, e.token(t, google, "g-other", "other@example.com"), "").GetAccessToken())
		_, err = unlink(otherCtx, google)
		wantRefused(t, "UnlinkIdentity(last method)", err, connect.CodeFailedPrecondition, apperr.ReasonLastSignInMethod, "")
		if _, err := link(otherCtx, apple, e.token(t, apple, "005.other", "")); err != nil {
			t.Fatalf("LinkIdentity(apple to the google user) = %v", err)
		}
		if u, err := unlink(otherCtx, google); err != nil || !slices.Equal(providersOf(u), []authv1.Provider{apple}) || u.GetId() != other.GetId() {
			t.Fatalf("UnlinkIdentity(google, apple remains) = %v, %v", u, err)
		}
		_, err = unlink(otherCtx, apple)
		wantRefused(t, "UnlinkIdentity(apple, now the last)", err, connect.CodeFailedPrecondition, apperr.ReasonLastSignInMethod, "")

		// Racing unlinks of a social-only user's two identities: one wins.
		if _, err := link(otherCtx, google, e.token(t, google, "g-other", "other@example.com")); err != nil {
			t.Fatalf("LinkIdentity(google back) = %v", err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, p := range []authv1.Provider{apple, google} {
			wg.Go(func() { _, errs[i] = unlink(otherCtx, p) })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Errorf("racing unlinks of both identities = %v, %v; want exactly one refused", errs[0], errs[1])
		}
		ids, err := e.p.store.ListIdentities(ctx, app, other.GetId())
		if err != nil || len(ids) != 1 {
			t.Errorf("after racing unlinks the user has %d identities (%v), want 1", len(ids), err)
		}
	})
}

// TestSocialSecondFactor: social sign-in of a user with a second factor
// does not hand out a session (CosyncJWT skipped the factor; we do not),
// unless the app lets social sign-in skip it. A suspended user is refused.
func TestSocialSecondFactor(t *testing.T) {
	t.Parallel()
	eachSocial(t, func(t *testing.T, e *socialEnv) {
		ctx := context.Background()
		app := e.app(t, func(s *adminv1.AppSettings) { s.TwoFactor = authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP })
		raw := func() string { return e.token(t, apple, "001.ann", "ann@example.com") }
		id := e.mustSession(t, app, apple, raw(), "").GetUser().GetId()
		u, err := e.p.store.GetUser(ctx, app, id)
		if err != nil {
			t.Fatal(err)
		}
		u.TwoFactor = identity.TwoFactorTOTP
		if err := e.p.store.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		res, err := e.socialLogin(t, app, apple, raw(), "")
		if res.GetSession() != nil {
			t.Fatalf("SocialLogin of a user with a second factor = session; want a challenge or a refusal (err %v)", err)
		}
		if err == nil && res.GetChallenge().GetLoginToken() == "" {
			t.Errorf("SocialLogin = %v, want a challenge with a login token", res)
		}

		e.set(t, app, &adminv1.AppSettings{SocialSkipsTwoFactor: true}, "social_skips_two_factor")
		if s := e.mustSession(t, app, apple, raw(), ""); s.GetUser().GetId() != id {
			t.Errorf("SocialLogin with social_skips_two_factor = user %s, want %s", s.GetUser().GetId(), id)
		}

		u.Status = identity.UserSuspended
		if err := e.p.store.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		_, err = e.socialLogin(t, app, apple, raw(), "")
		wantRefused(t, "SocialLogin(suspended)", err, connect.CodePermissionDenied, apperr.ReasonAccountSuspended, "")
	})
}

// TestREADMESocial runs the README's social sign-in section, as written,
// against the built binary and the test IdP: Bea signs up with Apple, signs
// in again, and her Google token is refused, then linked once the app links
// verified emails.
func TestREADMESocial(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the social section needs %s: %v", tool, err)
		}
	}
	blocks := func(section string) []string {
		var out []string
		for _, b := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(readmeSection(t, section), -1) {
			out = append(out, b[1])
		}
		return out
	}
	walk, soc := blocks("walkthrough"), blocks("social")
	if len(walk) < 2 || !strings.Contains(walk[0], "developer create") || !strings.Contains(walk[1], "DEV=") || len(soc) < 4 {
		t.Fatalf("README sections look incomplete: walkthrough %q, social %q", walk, soc)
	}
	script := walk[0] + walk[1] + strings.Join(soc, "")

	dir := t.TempDir()
	bin, idpBin := filepath.Join(dir, "bin", "cosync-auth"), filepath.Join(dir, "testidp")
	for out, pkg := range map[string]string{bin: ".", idpBin: "../internal/social/socialtest/cmd/testidp"} {
		if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	start := func(name string, env []string, args ...string) *bytes.Buffer {
		var log bytes.Buffer
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &log, &log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return &log
	}
	idpAddr := freeAddr(t)
	idpLog := start(idpBin, os.Environ(), "--addr", idpAddr)
	addr := freeAddr(t)
	base := "http://" + addr
	env := append(os.Environ(), "COSYNC_ADDR="+addr, "COSYNC_PUBLIC_URL="+base, "COSYNC_LOG_LEVEL=warn",
		"COSYNC_APPLE_JWKS_URL=http://"+idpAddr+"/apple/keys", "COSYNC_GOOGLE_JWKS_URL=http://"+idpAddr+"/google/certs")
	serverLog := start(bin, env, "serve")
	waitReady(t, base, serverLog)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get("http://" + idpAddr + "/apple/keys"); err == nil {
			r.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("testidp never answered; log:\n%s", idpLog)
		}
	}

	sh := strings.NewReplacer("http://localhost:8080", base, "127.0.0.1:8091", idpAddr).Replace(script)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", sh)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("social section failed: %v\n%s\nserver log:\n%s", err, out, serverLog)
	}
	bea := regexp.MustCompile(`Bea signed up: (\S+)`).FindSubmatch(out)
	if bea == nil {
		t.Fatalf("social section output lacks Bea's id:\n%s", out)
	}
	for _, want := range []string{
		"this ID token was already used",
		"same user: Apple sign-in",
		"already_exists: an account with this email already exists: sign in with Apple, then link Google to it",
		`{"link_verified_emails":true}`,
		`{"user":"` + string(bea[1]) + `","identities":["PROVIDER_APPLE","PROVIDER_GOOGLE"]}`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("social section output lacks %s:\n%s", want, out)
		}
	}
}

// TestSocialDeleteAccount: a user without a password deletes their account
// with a fresh ID token of their own linked identity; the identity goes too.
func TestSocialDeleteAccount(t *testing.T) {
	t.Parallel()
	eachSocial(t, func(t *testing.T, e *socialEnv) {
		ctx := context.Background()
		app := e.app(t, nil)
		sess := e.mustSession(t, app, apple, e.token(t, apple, "001.ann", "ann@example.com"), "")
		bo := e.token(t, google, "g-bo", "bo@example.com")
		e.mustSession(t, app, google, bo, "")
		annCtx := as(ctx, app, sess.GetAccessToken())
		del := func(p authv1.Provider, raw string) error {
			_, err := e.auth.DeleteAccount(annCtx, &authv1.DeleteAccountRequest{Provider: p, IdToken: raw})
			return err
		}
		stale := e.apple.MustMint(t, socialtest.Token{Subject: "001.ann", Audience: bundleID, IssuedAt: e.clock.Now().Add(-6 * time.Minute)})
		wantRefused(t, "DeleteAccount(token issued 6 minutes ago)", del(apple, stale), connect.CodeUnauthenticated, apperr.ReasonIDTokenInvalid, "id_token")
		wantRefused(t, "DeleteAccount(another user's token)", del(google, bo), connect.CodeUnauthenticated, apperr.ReasonIDTokenInvalid, "id_token")
		wantRefused(t, "DeleteAccount(no provider)", del(authv1.Provider_PROVIDER_UNSPECIFIED, e.token(t, apple, "001.ann", "")), connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "provider")
		if err := del(apple, e.token(t, apple, "001.ann", "ann@example.com")); err != nil {
			t.Fatalf("DeleteAccount(fresh Apple token) = %v", err)
		}
		if _, err := e.p.store.FindIdentity(ctx, app, social.Apple, "001.ann"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("after DeleteAccount FindIdentity = %v, want NotFound", err)
		}
		// Apple's sub now belongs to nobody: signing in again starts afresh.
		if s := e.mustSession(t, app, apple, e.token(t, apple, "001.ann", "ann@example.com"), ""); s.GetUser().GetId() == sess.GetUser().GetId() {
			t.Errorf("sign-in after deletion reused the deleted user id %s", s.GetUser().GetId())
		}
	})
}
