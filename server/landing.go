package main

import (
	"html/template"
	"io"
	"log/slog"
	"net/http"

	"connectrpc.com/connect"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/rpc"
)

// The signup-link landing page. A GET only shows a confirm button: mail
// scanners follow links, and following one must not complete a signup.
// The button POSTs the same handle and code, which completes it once.
var landingPage = template.Must(template.New("landing").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#1f2328}
button{font-size:1rem;padding:.6rem 1.4rem;border:0;border-radius:6px;background:#2563eb;color:#fff;cursor:pointer}
.err{color:#b42318}</style></head><body>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
{{if .Confirm}}<p>Confirm <strong>{{.Handle}}</strong> to finish signing up.</p>
<form method="post"><input type="hidden" name="handle" value="{{.Handle}}"><input type="hidden" name="code" value="{{.Code}}">
<button type="submit">Confirm my email</button></form>{{end}}
</body></html>`))

type landingData struct {
	Title, Handle, Code, Error string
	Confirm                    bool
}

func signupLanding(p *parts) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer") // the URL carries the code
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		appID := r.PathValue("id")
		name, err := p.svc.AppName(r.Context(), appID)
		if err != nil {
			renderLanding(w, p.log, http.StatusNotFound, landingData{Title: "Not found", Error: "This link does not belong to an application here."})
			return
		}
		if r.Method == http.MethodGet {
			q := r.URL.Query()
			renderLanding(w, p.log, http.StatusOK, landingData{Title: name, Handle: q.Get("handle"), Code: q.Get("code"), Confirm: true})
			return
		}
		if err := r.ParseForm(); err != nil {
			renderLanding(w, p.log, http.StatusBadRequest, landingData{Title: name, Error: "The form could not be read."})
			return
		}
		c := identity.Caller{AppID: appID, IP: rpc.ClientIP(connect.Peer{Addr: r.RemoteAddr}, r.Header, p.cfg.TrustProxy)}
		redirect, done, err := p.svc.ConfirmSignupLink(r.Context(), c, r.PostForm.Get("handle"), identity.Secret(r.PostForm.Get("code")))
		if err != nil {
			status := http.StatusBadRequest
			msg := "This link is no longer valid. Sign up again to get a new one."
			switch apperr.KindOf(err) {
			case apperr.RateLimited:
				status, msg = http.StatusTooManyRequests, "Too many attempts; try again later."
			case apperr.Unavailable, apperr.Internal:
				status, msg = http.StatusServiceUnavailable, "Something went wrong on our side; try again in a moment."
				p.log.ErrorContext(r.Context(), "signup link", "err", err)
			}
			renderLanding(w, p.log, status, landingData{Title: name, Error: msg})
			return
		}
		if redirect != "" {
			http.Redirect(w, r, redirect, http.StatusSeeOther)
			return
		}
		// The app's link_landing template, a whole page rendered by html/template.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, done.HTML)
	}
}

func renderLanding(w http.ResponseWriter, log *slog.Logger, status int, d landingData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := landingPage.Execute(w, d); err != nil {
		log.Warn("landing page", "err", err)
	}
}
