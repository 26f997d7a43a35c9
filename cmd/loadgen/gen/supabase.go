package gen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Supabase drives a running Supabase Auth (GoTrue) through the same
// scenarios as Runner, measured the same way, over GoTrue's REST API:
// login is POST /token?grant_type=password, refresh a chain of single-use
// refresh tokens through POST /token?grant_type=refresh_token, jwks GET
// /.well-known/jwks.json, getuser GET /user with the access token, and
// signup POST /signup. Every user signs up through POST /signup, so the
// server must confirm them at once (GOTRUE_MAILER_AUTOCONFIRM=true).
type Supabase struct {
	cfg  Config
	hc   *http.Client
	algs []string
}

// NewSupabase checks that the server at cfg.URL answers and reads the
// algorithms its JWKS serves.
func NewSupabase(ctx context.Context, cfg Config) (*Supabase, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	s := &Supabase{cfg: cfg, hc: newClient(cfg.Workers)}
	var set struct {
		Keys []struct {
			Alg string `json:"alg"`
		} `json:"keys"`
	}
	if err := s.call(ctx, http.MethodGet, "/.well-known/jwks.json", "", nil, &set); err != nil {
		return nil, err
	}
	for _, k := range set.Keys {
		s.algs = append(s.algs, k.Alg)
	}
	return s, nil
}

// Algorithms are the alg of each key the server's JWKS serves; none when
// it signs with its HS256 secret alone, which the JWKS leaves out.
func (s *Supabase) Algorithms() []string { return s.algs }

// Run runs the configured scenarios in order.
func (s *Supabase) Run(ctx context.Context) ([]Result, error) {
	var out []Result
	for _, name := range s.cfg.Scenarios {
		res, err := s.Scenario(ctx, name)
		if err != nil {
			return out, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, res)
	}
	return out, nil
}

// Scenario prepares a user per worker (signed up before the clock runs),
// then runs name for the configured duration.
func (s *Supabase) Scenario(ctx context.Context, name string) (Result, error) {
	if name == "jwks" && len(s.algs) == 0 {
		// An empty set costs the server nothing to send: no measure of it.
		return Result{}, errors.New("the JWKS serves no key (HS256 only: give the server an RS256 or ES256 key in GOTRUE_JWT_KEYS)")
	}
	ws, err := prepare(ctx, s.cfg.Workers, name, func(ctx context.Context, w *worker) error {
		t, err := s.signUp(ctx, w.email)
		if err != nil {
			return err
		}
		w.access, w.refresh = t.AccessToken, t.RefreshToken
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return s.cfg.measure(ctx, name, ws, s.step(name))
}

// step returns one request of scenario name for a worker.
func (s *Supabase) step(name string) func(context.Context, *worker) error {
	switch name {
	case "login":
		return func(ctx context.Context, w *worker) error {
			var t gotrueTokens
			if err := s.call(ctx, http.MethodPost, "/token?grant_type=password", "", credentials{Email: w.email, Password: password}, &t); err != nil {
				return err
			}
			if t.AccessToken == "" {
				return errors.New("POST /token?grant_type=password: no access_token in the answer")
			}
			return nil
		}
	case "refresh":
		// Each worker follows its own chain of single-use refresh tokens.
		return func(ctx context.Context, w *worker) error {
			var t gotrueTokens
			if err := s.call(ctx, http.MethodPost, "/token?grant_type=refresh_token", "", refreshGrant{RefreshToken: w.refresh}, &t); err != nil {
				return err
			}
			if t.RefreshToken == "" {
				return errors.New("POST /token?grant_type=refresh_token: no refresh_token in the answer")
			}
			w.refresh = t.RefreshToken
			return nil
		}
	case "jwks":
		return func(ctx context.Context, _ *worker) error {
			return s.call(ctx, http.MethodGet, "/.well-known/jwks.json", "", nil, nil)
		}
	case "getuser":
		return func(ctx context.Context, w *worker) error {
			return s.call(ctx, http.MethodGet, "/user", w.access, nil, nil)
		}
	case "signup":
		return func(ctx context.Context, _ *worker) error {
			_, err := s.signUp(ctx, nextEmail())
			return err
		}
	}
	return func(context.Context, *worker) error { return errors.New("unknown scenario") }
}

func (s *Supabase) signUp(ctx context.Context, email string) (gotrueTokens, error) {
	var t gotrueTokens
	if err := s.call(ctx, http.MethodPost, "/signup", "", credentials{Email: email, Password: password}, &t); err != nil {
		return t, err
	}
	if t.AccessToken == "" || t.RefreshToken == "" {
		// Unconfirmed, GoTrue answers the user alone.
		return t, errors.New("POST /signup answered no session (is GOTRUE_MAILER_AUTOCONFIRM on?)")
	}
	return t, nil
}

// credentials is the body of POST /signup and of the password grant.
type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// refreshGrant is the body of the refresh_token grant.
type refreshGrant struct {
	RefreshToken string `json:"refresh_token"`
}

// gotrueTokens is the part of GoTrue's AccessTokenResponse a worker keeps.
type gotrueTokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// gotrueError is GoTrue's error body (apierrors.HTTPError).
type gotrueError struct {
	ErrorCode string `json:"error_code"`
	Msg       string `json:"msg"`
}

// call sends one request, with in as its JSON body when not nil and bearer
// as its Authorization when not empty, and decodes a 2xx answer into out
// (nil: read and dropped). Any other status is an error naming GoTrue's
// error_code.
func (s *Supabase) call(ctx context.Context, method, path, bearer string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.cfg.URL+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := s.hc.Do(req)
	if err != nil {
		return err
	}
	defer func() {
		// Read to the end, so the connection goes back to the pool.
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}()
	if res.StatusCode/100 != 2 {
		var e gotrueError
		if json.NewDecoder(res.Body).Decode(&e) == nil && e.ErrorCode != "" {
			return fmt.Errorf("%s %s: %s: %s (%s)", method, path, res.Status, e.ErrorCode, e.Msg)
		}
		return fmt.Errorf("%s %s: %s", method, path, res.Status)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}
