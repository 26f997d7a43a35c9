// Package cosync is the Go SDK of CoSync Auth.
//
// Apps and scripts call the Auth and Admin services through a [Client]:
// [NewClient] sends the application id on every call, keeps the session a
// sign-in returns, sends its access token as the bearer, and refreshes it
// before it expires, once however many calls are waiting. [ReasonOf] reads
// the machine reason of an error.
//
// Backends verify the access tokens with a [Verifier], which checks the
// RS256 signature against the application's JWKS (fetched, cached, and
// fetched again when a token names a key it has not seen, as after a key
// rotation) and the iss, aud, exp, nbf and iat claims. [Verifier.Middleware]
// does that for every request of a net/http handler and puts the [Claims]
// in the request context ([ClaimsFromContext]).
//
// The generated messages and Connect clients live in the subpackages
// cosync/auth/v1 (with authv1connect) and cosync/admin/v1 (with
// adminv1connect). The module depends only on connect-go and protobuf
// (and the generated protovalidate module the messages import).
package cosync
