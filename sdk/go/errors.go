package cosync

import (
	"errors"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protowire"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
)

// ErrorDomain is the domain of the google.rpc.ErrorInfo detail every CoSync
// Auth error carries.
const ErrorDomain = "cosync.auth"

// The detail types the server attaches, read here from their wire form so
// that the module does not need the googleapis Go packages.
const (
	errorInfoType  = "google.rpc.ErrorInfo"
	badRequestType = "google.rpc.BadRequest"
)

// ReasonOf returns the machine reason of an error the Auth or Admin service
// returned (from its google.rpc.ErrorInfo detail), looking through wrapped
// errors. It returns ERROR_REASON_UNSPECIFIED for nil, for errors that did
// not come from the server (a refused connection, a cancelled context), and
// for reasons newer than this SDK. Branch on the reason, never on the
// message text.
func ReasonOf(err error) authv1.ErrorReason {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return authv1.ErrorReason_ERROR_REASON_UNSPECIFIED
	}
	for _, d := range ce.Details() {
		if d.Type() != errorInfoType {
			continue
		}
		reason, domain := parseErrorInfo(d.Bytes())
		if domain != ErrorDomain {
			continue
		}
		return authv1.ErrorReason(authv1.ErrorReason_value["ERROR_REASON_"+reason])
	}
	return authv1.ErrorReason_ERROR_REASON_UNSPECIFIED
}

// FieldViolation names a request field the server refused and why.
type FieldViolation struct {
	Field       string // the proto field name, e.g. "new_password"
	Description string
}

// FieldViolations returns the fields an InvalidArgument error names (its
// google.rpc.BadRequest detail), or nil.
func FieldViolations(err error) []FieldViolation {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return nil
	}
	var out []FieldViolation
	for _, d := range ce.Details() {
		if d.Type() != badRequestType {
			continue
		}
		// BadRequest: repeated FieldViolation field_violations = 1;
		// FieldViolation: string field = 1; string description = 2.
		eachField(d.Bytes(), func(num protowire.Number, v []byte) {
			if num != 1 {
				return
			}
			var fv FieldViolation
			eachField(v, func(num protowire.Number, v []byte) {
				switch num {
				case 1:
					fv.Field = string(v)
				case 2:
					fv.Description = string(v)
				}
			})
			out = append(out, fv)
		})
	}
	return out
}

// parseErrorInfo reads reason (field 1) and domain (field 2) of an encoded
// google.rpc.ErrorInfo.
func parseErrorInfo(b []byte) (reason, domain string) {
	eachField(b, func(num protowire.Number, v []byte) {
		switch num {
		case 1:
			reason = string(v)
		case 2:
			domain = string(v)
		}
	})
	return reason, domain
}

// eachField calls fn with every length-delimited field of the encoded
// message b, skipping fields of other wire types, and stops at the first
// malformed byte.
func eachField(b []byte, fn func(protowire.Number, []byte)) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return
		}
		fn(num, v)
		b = b[n:]
	}
}
