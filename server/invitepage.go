package main

import (
	"html/template"
	"net/http"
	"net/mail"
	"regexp"
)

// The page an invitation mail links to (/apps/{id}/invite?handle=…&invite_code=…).
// An invitation is accepted in the app, with AuthService.Register (handle,
// password, invite_code): this page shows the code and says so. It reads
// nothing but the app's name and changes nothing, so a mail scanner that
// follows the link spends nothing, and it never says whether the code is
// still good (the app's Register does).
var invitePageTmpl = template.Must(template.New("invite").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.App}}: your invitation</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#1f2328}
.code{font-size:2rem;letter-spacing:.3rem;font-family:ui-monospace,monospace}.err{color:#b42318}</style></head><body>
{{if .Error}}<h1>Invitation</h1><p class="err">{{.Error}}</p>{{else}}
<h1>You are invited to {{.App}}</h1>
<p>Open the {{.App}} app and choose to accept an invitation (or register with an invitation code). Enter:</p>
<p>Email: <strong>{{.Handle}}</strong></p>
<p>Invitation code:</p><p class="code" id="invite-code">{{.Code}}</p>
<p>Then choose your password. The code works once, until the invitation expires.</p>{{end}}
</body></html>`))

type invitePageData struct{ App, Handle, Code, Error string }

var inviteCodePattern = regexp.MustCompile(`^[0-9]{6}$`)

// invitePageCSP lets the page use its own inline style and nothing else.
const invitePageCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

func invitePage(p *parts) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", invitePageCSP)
		h.Set("Content-Type", "text/html; charset=utf-8")
		name, err := p.svc.AppName(r.Context(), r.PathValue("id"))
		if err != nil {
			w.WriteHeader(http.StatusNotFound)
			_ = invitePageTmpl.Execute(w, invitePageData{Error: "This link does not belong to an application here."})
			return
		}
		q := r.URL.Query()
		handle, code := q.Get("handle"), q.Get("invite_code")
		if _, perr := mail.ParseAddress(handle); perr != nil || len(handle) > 320 || !inviteCodePattern.MatchString(code) {
			w.WriteHeader(http.StatusBadRequest)
			_ = invitePageTmpl.Execute(w, invitePageData{App: name, Error: "This invitation link is incomplete. Copy the whole link from the mail, or use the code in it."})
			return
		}
		if err := invitePageTmpl.Execute(w, invitePageData{App: name, Handle: handle, Code: code}); err != nil {
			p.log.WarnContext(r.Context(), "invite page", "err", err)
		}
	}
}
