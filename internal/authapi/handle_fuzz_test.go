package authapi_test

import (
	"context"
	"errors"
	"net/mail"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/validate"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/identity"
)

// validates runs msg through the same protovalidate interceptor the server
// mounts and reports whether it passes; a refusal must be InvalidArgument.
func validates(tb testing.TB, msg any) bool {
	tb.Helper()
	pass := func(context.Context, connect.AnyRequest) (connect.AnyResponse, error) {
		return connect.NewResponse(&authv1.SignUpResponse{}), nil
	}
	var req connect.AnyRequest
	switch m := msg.(type) {
	case *authv1.SignUpRequest:
		req = connect.NewRequest(m)
	case *authv1.InviteRequest:
		req = connect.NewRequest(m)
	default:
		tb.Fatalf("validates(%T)", msg)
	}
	_, err := validate.NewInterceptor().WrapUnary(pass)(context.Background(), req)
	if err == nil {
		return true
	}
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeInvalidArgument {
		tb.Fatalf("validating %v = %v, want InvalidArgument", msg, err)
	}
	return false
}

// FuzzEmailHandle: an email the API accepts at SignUp or Invite is, once
// normalised as the domain stores it, still accepted, and is an address
// the mailer takes as it is (net/mail, as notify checks at send time), so
// a signup can never be stored for an address its code cannot be mailed to.
func FuzzEmailHandle(f *testing.F) {
	for _, s := range []string{
		"ann@example.com", "Ann@Example.COM", "a+b@x.io", "\"quoted name\"@example.com", "ann@[127.0.0.1]",
		"ann@localhost", "ann@example.com\n", " ann@example.com", "ann@exa mple.com", "ann..b@example.com",
		"ann@example.com>", "Ann <ann@example.com>", "ann@ex\u0000ample.com", "ïnci@exämple.com", "a@b.c",
		"ann@example.com,bob@example.com", "=?utf-8?q?x?=@example.com", "ann@-example.com", "ann@example..com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if !validates(t, &authv1.SignUpRequest{Handle: h, Password: "long-enough-pw"}) {
			return
		}
		n := identity.NormalizeEmail(h)
		if !validates(t, &authv1.SignUpRequest{Handle: n, Password: "long-enough-pw"}) {
			t.Fatalf("SignUp accepts %q but not its normal form %q", h, n)
		}
		if !validates(t, &authv1.InviteRequest{Handle: n}) {
			t.Fatalf("SignUp accepts %q but Invite refuses it", n)
		}
		a, err := mail.ParseAddress(n)
		if err != nil {
			t.Fatalf("SignUp accepts %q, whose normal form %q the mailer refuses: %v", h, n, err)
		}
		if a.Address != n {
			t.Fatalf("SignUp accepts %q; the mailer reads %q as %q, another address", h, n, a.Address)
		}
	})
}
