package identity

import (
	"errors"
	"time"
)

// Provider names an identity provider of social sign-in.
type Provider string

// The providers.
const (
	Apple  Provider = "apple"
	Google Provider = "google"
)

// Providers lists every provider, in the order the API numbers them.
var Providers = []Provider{Apple, Google}

// Title is the provider's name for people: "Apple", "Google".
func (p Provider) Title() string {
	switch p {
	case Apple:
		return "Apple"
	case Google:
		return "Google"
	}
	return string(p)
}

// SocialClaims are what a verified ID token says about the person.
type SocialClaims struct {
	Provider      Provider
	Subject       string // the provider's stable id of the person for this developer
	Email         string // as the token has it (may be empty)
	EmailVerified bool   // Apple: always; Google: email_verified
	PrivateEmail  bool   // Apple's private relay address (is_private_email)
	GivenName     string // Google only; Apple gives the name to the app, not in the token
	FamilyName    string
	// Nonce is the token's nonce claim as it appears in the token (for
	// Apple the SHA-256 of the client's nonce): the key under which a used
	// nonce is remembered. Empty when the token has none.
	Nonce     string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// The error kinds a SocialVerifier returns, wrapped in a *SocialError.
var (
	// ErrIDTokenInvalid: the token is malformed, not signed by the provider,
	// for another audience or issuer, expired, or otherwise not acceptable.
	ErrIDTokenInvalid = errors.New("ID token is not valid")
	// ErrNonce: the nonce the client sent does not match the token's, or
	// the token carries a nonce and the client sent none.
	ErrNonce = errors.New("nonce does not match the ID token")
	// ErrProviderUnavailable: the provider's keys could not be fetched.
	ErrProviderUnavailable = errors.New("provider keys are unavailable")
)

// SocialError is a failed verification: Kind is ErrIDTokenInvalid, ErrNonce
// or ErrProviderUnavailable, Detail a short description safe to show a
// client (it never holds a secret), Err the cause for the log.
type SocialError struct {
	Kind   error
	Detail string
	Err    error
}

func (e *SocialError) Error() string {
	s := e.Kind.Error() + ": " + e.Detail
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap gives errors.Is the kind and the cause.
func (e *SocialError) Unwrap() []error { return []error{e.Kind, e.Err} }
