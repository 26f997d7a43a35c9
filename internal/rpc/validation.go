package rpc

import (
	"context"
	"errors"
	"fmt"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// maxViolations bounds the field violations one answer lists: more than
// any form needs, and a request of 20,000 bad items cannot earn a
// megabytes-long answer.
const maxViolations = 50

// Validation wraps the protovalidate interceptor so that its refusals read
// like every other error of ours: an ErrorInfo with reason
// INVALID_ARGUMENT beside the field violations, at most maxViolations of
// them, and a short message. Errors from handlers pass through untouched.
func Validation(inner connect.Interceptor) connect.Interceptor { return validation{inner} }

type validation struct{ inner connect.Interceptor }

func (v validation) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		reached := false // the validator let the request through to next
		res, err := v.inner.WrapUnary(func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			reached = true
			return next(ctx, req)
		})(ctx, req)
		if err == nil || reached {
			return res, err
		}
		return res, refusal(err)
	}
}

func (v validation) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return v.inner.WrapStreamingClient(next)
}

func (v validation) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return v.inner.WrapStreamingHandler(next)
}

// refusal rebuilds the validator's error with our reason and bounded details.
func refusal(err error) error {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return err
	}
	msg := ce.Message()
	var details []proto.Message
	for _, d := range ce.Details() {
		m, derr := d.Value()
		if derr != nil {
			continue
		}
		if vs, ok := m.(*validatepb.Violations); ok && len(vs.GetViolations()) > maxViolations {
			msg = fmt.Sprintf("validation error: %d fields are invalid; the details list the first %d", len(vs.GetViolations()), maxViolations)
			vs.Violations = vs.Violations[:maxViolations]
		}
		details = append(details, m)
	}
	if len(msg) > 2048 {
		msg = msg[:2048] + "…"
	}
	out := connect.NewError(ce.Code(), errors.New(msg))
	if ce.Code() == connect.CodeInvalidArgument {
		addDetail(out, &errdetails.ErrorInfo{Reason: string(apperr.ReasonInvalidArgument), Domain: ErrorDomain})
	}
	for _, m := range details {
		addDetail(out, m)
	}
	return out
}
