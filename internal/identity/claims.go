package identity

import (
	"errors"
	"time"
)

// Claims are what an access token says (the token package mints and
// verifies them as a JWT).
type Claims struct {
	Issuer   string
	Subject  string   // the stable user id
	Audience []string // always a JSON array; nil or empty omits aud
	IssuedAt time.Time
	Expiry   time.Time
	// SessionID, Email and UserName are the "sid", "email" and "user_name"
	// claims; empty omits them.
	SessionID, Email, UserName string
	// Extra holds the application's metadata claims, already nested at their
	// dotted paths (e.g. {"user_data":{"name":"x"}}). Its keys must not be
	// ReservedClaims. Verify fills it with every claim that is not reserved,
	// or leaves it nil if there is none.
	Extra map[string]any
}

// ReservedClaims lists the claim names Claims sets itself; Claims.Extra
// must not use them. Do not modify it.
var ReservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"sid": true, "email": true, "user_name": true,
}

// Errors a Tokens implementation returns, wrapped with detail: test with
// errors.Is.
var (
	// ErrTokenInvalid means the token is malformed, not signed by a key the
	// app publishes, or issued by someone else.
	ErrTokenInvalid = errors.New("token: invalid")
	// ErrTokenExpired means the token was valid but its exp has passed.
	ErrTokenExpired = errors.New("token: expired")
	// ErrTokenTooLong means Mint would produce a token longer than the
	// 2048 characters consumers such as Atlas accept.
	ErrTokenTooLong = errors.New("token: longer than MaxLength")
)
