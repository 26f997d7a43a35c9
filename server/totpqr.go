package main

import (
	"io"
	"net/http"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// totpQR serves the QR image the authenticator enrollment mail links to,
// while its enrollment is pending and at most identity.QRLinkTTL. The image
// holds the secret: it is never cached and the link leaks to no referrer.
func totpQR(p *parts) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		png, err := p.svc.TotpQR(r.Context(), r.PathValue("id"), identity.Secret(r.URL.Query().Get("token")))
		// A suspended app's link is as dead as an unknown one.
		if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Precondition) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "this QR code link is not valid any more; start the authenticator setup again\n")
			return
		}
		if err != nil {
			httpError(w, r, p.log, err)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(png)
	}
}
