package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
)

// wantPageHeaders fails tb unless res carries the headers every HTML page
// must: no framing, no sniffing, no referrer, a CSP that forbids framing.
func wantPageHeaders(tb testing.TB, what string, res *http.Response) {
	tb.Helper()
	h := res.Header
	csp := h.Get("Content-Security-Policy")
	for _, c := range []struct{ name, got, want string }{
		{"X-Frame-Options", h.Get("X-Frame-Options"), "DENY"},
		{"X-Content-Type-Options", h.Get("X-Content-Type-Options"), "nosniff"},
		{"Referrer-Policy", h.Get("Referrer-Policy"), "no-referrer"},
	} {
		if c.got != c.want {
			tb.Errorf("%s: %s = %q, want %q", what, c.name, c.got, c.want)
		}
	}
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src") {
		tb.Errorf("%s: Content-Security-Policy = %q, want a default-src and frame-ancestors 'none'", what, csp)
	}
	for _, bad := range []string{"unsafe-eval", "script-src *", "'unsafe-inline' 'self'; script"} {
		if strings.Contains(csp, bad) {
			tb.Errorf("%s: Content-Security-Policy allows %q: %q", what, bad, csp)
		}
	}
}

// TestHTMLPagesHeaders walks every page the server renders as HTML (and the
// QR link beside them), in each state it can answer, and checks the headers.
func TestHTMLPagesHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	dev := e.developer(t, "dev@example.com")
	app := e.appWithNameField(t, dev)
	form := url.Values{"handle": {"a@example.com"}, "code": {"000000"}}.Encode()
	pages := []struct {
		method, path, body string
		status             int
		html               bool
	}{
		{"GET", "/", "", 200, true},
		{"GET", "/apps/" + app + "/signup/confirm?handle=a%40example.com&code=123456", "", 200, true},
		{"POST", "/apps/" + app + "/signup/confirm", form, 400, true},
		{"GET", "/apps/no-such-app/signup/confirm", "", 404, true},
		{"GET", "/apps/" + app + "/invite?handle=a%40example.com&invite_code=123456", "", 200, true},
		{"GET", "/apps/" + app + "/invite?handle=a%40example.com", "", 400, true},
		{"GET", "/apps/no-such-app/invite?handle=a%40example.com&invite_code=123456", "", 404, true},
		{"GET", "/apps/" + app + "/totp-qr?token=nope", "", 404, false},
		{"GET", "/apps/" + app + "/.well-known/jwks.json", "", 200, false},
	}
	for _, pg := range pages {
		what := pg.method + " " + pg.path
		req, err := http.NewRequest(pg.method, e.url+pg.path, strings.NewReader(pg.body))
		if err != nil {
			t.Fatal(err)
		}
		if pg.body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := e.http.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != pg.status {
			t.Errorf("%s = %d, want %d", what, res.StatusCode, pg.status)
		}
		if isHTML := strings.HasPrefix(res.Header.Get("Content-Type"), "text/html"); isHTML != pg.html {
			t.Errorf("%s: Content-Type %q, want HTML %v", what, res.Header.Get("Content-Type"), pg.html)
		}
		wantPageHeaders(t, what, res)
	}
}

var inviteCodeOnPage = regexp.MustCompile(`id="invite-code">([0-9]{6})<`)

// TestInvitationLink follows the link in an invitation mail: the page shows
// the code, and the code shown registers the invited person in the app.
func TestInvitationLink(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		e.enableInvites(t, dev, app)
		if _, err := e.admin.CreateInvitations(as(ctx, "", dev), &adminv1.CreateInvitationsRequest{AppId: app,
			Invitations: []*adminv1.InvitationInput{{Handle: "bob@example.com", Metadata: mustStruct(t, map[string]any{"team": "blue"})}}}); err != nil {
			t.Fatal(err)
		}
		mail := e.outboxTo(t, dev, app, "bob@example.com")
		var link string
		for _, f := range strings.Fields(mail.GetText()) {
			if strings.HasPrefix(f, e.url+"/apps/"+app+"/invite?") {
				link = f
			}
		}
		if link == "" {
			t.Fatalf("no invitation link to %s in:\n%s", e.url, mail.GetText())
		}
		if !strings.Contains(mail.GetHtml(), `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
			t.Errorf("the HTML mail does not link to %s", link)
		}

		res, err := e.http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d, want 200\n%s", link, res.StatusCode, page)
		}
		wantPageHeaders(t, "invitation page", res)
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("invitation page Cache-Control = %q, want no-store", res.Header.Get("Cache-Control"))
		}
		m := inviteCodeOnPage.FindSubmatch(page)
		if m == nil || !strings.Contains(string(page), "bob@example.com") {
			t.Fatalf("the invitation page shows no code for bob:\n%s", page)
		}
		// Showing the page consumed nothing: the code registers bob.
		reg, err := e.auth.Register(as(ctx, app, ""), &authv1.RegisterRequest{Handle: "bob@example.com", Password: "long-enough-pw",
			InviteCode: string(m[1]), Metadata: mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Bob"}})})
		if err != nil {
			t.Fatalf("Register with the code from the page = %v", err)
		}
		if got := reg.GetSession().GetUser().GetMetadata().AsMap()["team"]; got != "blue" {
			t.Errorf("registered team = %v, want blue", got)
		}
	})
}
