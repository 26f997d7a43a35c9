package rpc_test

import (
	"context"
	"errors"
	"testing"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"connectrpc.com/connect"
	"connectrpc.com/validate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/rpc"
)

// TestValidation: the validator's refusals carry our reason and at most 50
// field violations under a short message, however many items were bad;
// errors from the handler pass through as they were.
func TestValidation(t *testing.T) {
	t.Parallel()
	handlerErr := connect.NewError(connect.CodeNotFound, errors.New("no such app"))
	reached := 0
	call := rpc.Validation(validate.NewInterceptor()).WrapUnary(func(context.Context, connect.AnyRequest) (connect.AnyResponse, error) {
		reached++
		return nil, handlerErr
	})
	items := make([]*adminv1.InvitationInput, 500)
	for i := range items {
		items[i] = &adminv1.InvitationInput{Handle: "not an email"}
	}
	tests := []struct {
		name           string
		req            *adminv1.CreateInvitationsRequest
		wantViolations int
	}{
		{"one bad field", &adminv1.CreateInvitationsRequest{AppId: "", Invitations: items[:1]}, 2},
		{"500 bad items", &adminv1.CreateInvitationsRequest{AppId: "app", Invitations: items}, 50},
	}
	for _, tc := range tests {
		_, err := call(context.Background(), connect.NewRequest(tc.req))
		var ce *connect.Error
		if !errors.As(err, &ce) || ce.Code() != connect.CodeInvalidArgument {
			t.Fatalf("%s: = %v, want InvalidArgument", tc.name, err)
		}
		if len(ce.Message()) > 2100 {
			t.Errorf("%s: message of %d bytes, want a short one", tc.name, len(ce.Message()))
		}
		var reason string
		violations := -1
		for _, d := range ce.Details() {
			switch m, _ := d.Value(); m := m.(type) {
			case *errdetails.ErrorInfo:
				reason = m.GetReason()
			case *validatepb.Violations:
				violations = len(m.GetViolations())
			}
		}
		if reason != string(apperr.ReasonInvalidArgument) {
			t.Errorf("%s: reason %q, want %s", tc.name, reason, apperr.ReasonInvalidArgument)
		}
		if violations < 1 || violations > tc.wantViolations {
			t.Errorf("%s: %d violations listed, want 1 to %d", tc.name, violations, tc.wantViolations)
		}
	}
	if reached != 0 {
		t.Errorf("the handler ran %d times for refused requests", reached)
	}
	_, err := call(context.Background(), connect.NewRequest(&adminv1.CreateInvitationsRequest{AppId: "app", Invitations: []*adminv1.InvitationInput{{Handle: "ann@example.com"}}}))
	if !errors.Is(err, handlerErr) {
		t.Errorf("a valid request = %v, want the handler's own error untouched", err)
	}
}
