package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestRateLimitSettings: the server's configured limit (COSYNC_RATE_LIMITS)
// is what GetApp shows and what a flow keeps; an app's override, set with
// curl-style JSON through UpdateApp, replaces it for that app; an unknown
// or server-wide rule name is refused naming the field and changes nothing.
func TestRateLimitSettings(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, func(c *config.Config) {
			c.RateLimits = []identity.LimitRule{{Name: "signup:ip", Limit: 2, Window: time.Hour}}
		})
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		e.update(t, dev, app, &adminv1.AppSettings{AnonymousLoginEnabled: true}, "settings.anonymous_login_enabled")

		effective := func() map[string]*adminv1.RateLimit {
			t.Helper()
			res, err := e.admin.GetApp(as(ctx, "", dev), &adminv1.GetAppRequest{AppId: app})
			if err != nil {
				t.Fatalf("GetApp = %v", err)
			}
			m := map[string]*adminv1.RateLimit{}
			for _, r := range res.GetApp().GetEffectiveRateLimits() {
				m[r.GetName()] = r
			}
			return m
		}
		if r := effective()["signup:ip"]; r.GetLimit() != 2 || r.GetWindow().AsDuration() != time.Hour {
			t.Errorf("GetApp effective signup:ip = %v, want the configured 2 / 1h", r)
		}
		if r := effective()["login:lock"]; r.GetLimit() != 10 {
			t.Errorf("GetApp effective login:lock = %v, want max_login_attempts 10", r)
		}
		anon := func() error {
			_, err := e.auth.LoginAnonymous(as(ctx, app, ""), &authv1.LoginAnonymousRequest{})
			return err
		}
		for i := range 2 {
			if err := anon(); err != nil {
				t.Fatalf("LoginAnonymous %d under signup:ip=2/1h = %v", i, err)
			}
		}
		wantReason(t, "LoginAnonymous past signup:ip=2/1h", anon(), connect.CodeResourceExhausted, apperr.ReasonRateLimited)

		// The override, as curl sends it: camelCase JSON, a Duration string.
		body := `{"appId":"` + app + `","settings":{"rateLimits":[{"name":"signup:ip","limit":5,"window":"3600s"}]},"updateMask":"settings.rateLimits"}`
		status, out := postJSON(t, e, dev, "/cosync.admin.v1.AdminService/UpdateApp", body)
		if status != http.StatusOK {
			t.Fatalf("UpdateApp(rateLimits) = %d %s", status, out)
		}
		var res struct {
			App struct {
				Settings struct {
					RateLimits []map[string]any `json:"rateLimits"`
				} `json:"settings"`
				EffectiveRateLimits []map[string]any `json:"effectiveRateLimits"`
			} `json:"app"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("UpdateApp answer %s: %v", out, err)
		}
		if got := res.App.Settings.RateLimits; len(got) != 1 || got[0]["name"] != "signup:ip" || got[0]["limit"] != float64(5) || got[0]["window"] != "3600s" {
			t.Errorf("UpdateApp settings.rateLimits = %v, want [signup:ip 5 3600s]", got)
		}
		found := false
		for _, r := range res.App.EffectiveRateLimits {
			found = found || (r["name"] == "signup:ip" && r["limit"] == float64(5))
		}
		if !found {
			t.Errorf("UpdateApp effectiveRateLimits = %v, want signup:ip at 5", res.App.EffectiveRateLimits)
		}
		// Two counted so far (a refused call counts nothing): three more fit.
		for i := range 3 {
			if err := anon(); err != nil {
				t.Fatalf("LoginAnonymous %d under the app's signup:ip=5/1h = %v", 3+i, err)
			}
		}
		wantReason(t, "LoginAnonymous past the app's signup:ip=5/1h", anon(), connect.CodeResourceExhausted, apperr.ReasonRateLimited)

		for _, name := range []string{"signup:nope", "invites:app", "login:lock"} {
			_, err := e.admin.UpdateApp(as(ctx, "", dev), &adminv1.UpdateAppRequest{
				AppId:      app,
				Settings:   &adminv1.AppSettings{RateLimits: []*adminv1.RateLimit{{Name: name, Limit: 99, Window: durationpb.New(time.Hour)}}},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"settings.rate_limits"}},
			})
			wantReason(t, "UpdateApp(rate_limits "+name+")", err, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "settings.rate_limits[0].name")
		}
		if r := effective()["signup:ip"]; r.GetLimit() != 5 {
			t.Errorf("after refused updates, effective signup:ip = %v, want still 5", r)
		}
		// Clearing the overrides brings the server's default back.
		e.update(t, dev, app, &adminv1.AppSettings{}, "settings.rate_limits")
		if r := effective()["signup:ip"]; r.GetLimit() != 2 {
			t.Errorf("after clearing, effective signup:ip = %v, want the configured 2", r)
		}
	})
}

// postJSON posts a JSON body to path as a developer, as curl would, and
// returns the status and body.
func postJSON(tb testing.TB, e *env, bearer, path, body string) (int, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+path, bytes.NewBufferString(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := e.http.Do(req)
	if err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(res.Body); err != nil {
		tb.Fatal(err)
	}
	return res.StatusCode, b.Bytes()
}
