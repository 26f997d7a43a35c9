// Command testidp is a stand-in for Sign in with Apple and Sign in with
// Google on one port, for trying social sign-in by hand (the README's curl
// section) and in air-gapped demos. It publishes each provider's JWKS and
// mints ID tokens shaped like theirs, with their real issuers, so a server
// needs only its JWKS settings pointed here:
//
//	testidp --addr 127.0.0.1:8091
//	COSYNC_APPLE_JWKS_URL=http://127.0.0.1:8091/apple/keys \
//	COSYNC_GOOGLE_JWKS_URL=http://127.0.0.1:8091/google/certs cosync-auth serve
//
//	GET  /apple/keys, /google/certs   the JWKS
//	POST /apple/token, /google/token  {"sub", "aud", "email", "nonce", "email_verified",
//	                                   "private_email", "given_name", "family_name"}
//	                                  → the ID token, as text
//
// Its keys live in memory: a restart makes new ones. Never point a real
// deployment at it.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/cosync/cosync-auth/internal/social"
	"github.com/cosync/cosync-auth/internal/social/socialtest"
)

// mintRequest is what /…/token reads.
type mintRequest struct {
	Sub           string `json:"sub"`
	Aud           string `json:"aud"`
	Email         string `json:"email"`
	EmailVerified *bool  `json:"email_verified"` // Google; default true
	PrivateEmail  bool   `json:"private_email"`  // Apple
	Nonce         string `json:"nonce"`
	GivenName     string `json:"given_name"` // Google
	FamilyName    string `json:"family_name"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8091", "listen address")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "testidp:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	mux := http.NewServeMux()
	for _, p := range []struct {
		provider social.Provider
		keys     string
	}{{social.Apple, "/apple/keys"}, {social.Google, "/google/certs"}} {
		idp, err := socialtest.NewIdP(p.provider)
		if err != nil {
			return err
		}
		mux.Handle("GET "+p.keys, idp)
		mux.HandleFunc("POST /"+string(p.provider)+"/token", func(w http.ResponseWriter, r *http.Request) {
			var req mintRequest
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
				http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
				return
			}
			if req.Sub == "" || req.Aud == "" {
				http.Error(w, "sub and aud are required", http.StatusBadRequest)
				return
			}
			raw, err := idp.Mint(socialtest.Token{
				Subject: req.Sub, Audience: req.Aud, Email: req.Email, Nonce: req.Nonce,
				EmailUnverified: req.EmailVerified != nil && !*req.EmailVerified, PrivateEmail: req.PrivateEmail,
				GivenName: req.GivenName, FamilyName: req.FamilyName,
			})
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, raw)
		})
	}
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("testidp: Apple JWKS http://%s/apple/keys, Google JWKS http://%s/google/certs", addr, addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
