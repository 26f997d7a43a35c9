package rpc

import (
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/identity"
)

// Timestamp converts a time, leaving zero times unset.
func Timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// Struct converts a JSON object; values that JSON cannot hold are dropped.
func Struct(m map[string]any) *structpb.Struct {
	if m == nil {
		return nil
	}
	s, err := structpb.NewStruct(m)
	if err != nil {
		return nil
	}
	return s
}

// MapOf converts a Struct to a JSON object (nil for nil).
func MapOf(s *structpb.Struct) map[string]any {
	if s == nil {
		return nil
	}
	return s.AsMap()
}

// User converts a domain user.
func User(u identity.User) *authv1.User {
	return &authv1.User{
		Id:            u.ID,
		Email:         u.Email,
		UserName:      u.UserName,
		Phone:         u.Phone,
		PhoneVerified: u.PhoneVerified,
		Metadata:      Struct(u.Metadata),
		Locale:        u.Locale,
		Status:        UserStatus(u.Status),
		TwoFactor:     TwoFactor(u.TwoFactor),
		Anonymous:     u.Anonymous,
		HasPassword:   u.HasPassword,
		CreatedAt:     Timestamp(u.CreatedAt),
		LastLoginAt:   Timestamp(u.LastLoginAt),
	}
}

// Session converts a new session.
func Session(s identity.SessionTokens) *authv1.Session {
	return &authv1.Session{
		AccessToken:      s.AccessToken.Reveal(),
		RefreshToken:     s.RefreshToken.Reveal(),
		ExpiresAt:        Timestamp(s.ExpiresAt),
		RefreshExpiresAt: Timestamp(s.RefreshExpiresAt),
		User:             User(s.User),
	}
}

// Challenge converts a second-factor challenge.
func Challenge(c identity.Challenge) *authv1.Challenge {
	return &authv1.Challenge{
		LoginToken: c.LoginToken.Reveal(),
		Method:     TwoFactor(c.Method),
		ExpiresAt:  Timestamp(c.ExpiresAt),
		PhoneHint:  c.PhoneHint,
	}
}

var userStatuses = NewEnum(map[identity.UserStatus]authv1.UserStatus{
	identity.UserActive:    authv1.UserStatus_USER_STATUS_ACTIVE,
	identity.UserSuspended: authv1.UserStatus_USER_STATUS_SUSPENDED,
})

// UserStatus converts a user status.
func UserStatus(s identity.UserStatus) authv1.UserStatus { return userStatuses.Proto(s) }

// UserStatusOf converts back; UNSPECIFIED reads as "" (any, or unchanged).
func UserStatusOf(s authv1.UserStatus) identity.UserStatus {
	d, _ := userStatuses.Domain(s)
	return d
}

var twoFactors = NewEnum(map[identity.TwoFactorMethod]authv1.TwoFactorMethod{
	identity.TwoFactorNone: authv1.TwoFactorMethod_TWO_FACTOR_METHOD_NONE,
	identity.TwoFactorTOTP: authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP,
	identity.TwoFactorSMS:  authv1.TwoFactorMethod_TWO_FACTOR_METHOD_SMS,
})

// TwoFactor converts a second-factor method.
func TwoFactor(m identity.TwoFactorMethod) authv1.TwoFactorMethod { return twoFactors.Proto(m) }

// TwoFactorOf converts back; UNSPECIFIED reads as "" (keep the default).
func TwoFactorOf(m authv1.TwoFactorMethod) identity.TwoFactorMethod {
	d, _ := twoFactors.Domain(m)
	return d
}

var signupFlows = NewEnum(map[identity.SignupFlow]authv1.SignupFlow{
	identity.FlowCode: authv1.SignupFlow_SIGNUP_FLOW_CODE,
	identity.FlowLink: authv1.SignupFlow_SIGNUP_FLOW_LINK,
	identity.FlowNone: authv1.SignupFlow_SIGNUP_FLOW_NONE,
})

// SignupFlow converts a signup flow.
func SignupFlow(f identity.SignupFlow) authv1.SignupFlow { return signupFlows.Proto(f) }

// SignupFlowOf converts back; UNSPECIFIED reads as "".
func SignupFlowOf(f authv1.SignupFlow) identity.SignupFlow {
	d, _ := signupFlows.Domain(f)
	return d
}

var fieldTypes = NewEnum(map[identity.FieldType]authv1.MetadataFieldType{
	identity.FieldString: authv1.MetadataFieldType_METADATA_FIELD_TYPE_STRING,
	identity.FieldNumber: authv1.MetadataFieldType_METADATA_FIELD_TYPE_NUMBER,
	identity.FieldBool:   authv1.MetadataFieldType_METADATA_FIELD_TYPE_BOOL,
})

// MetadataFields converts field definitions.
func MetadataFields(fs []identity.MetadataField) []*authv1.MetadataField {
	out := make([]*authv1.MetadataField, len(fs))
	for i, f := range fs {
		out[i] = &authv1.MetadataField{Path: f.Path, Name: f.Name, Required: f.Required, UserEditable: f.UserEditable, Type: fieldTypes.Proto(f.Type)}
	}
	return out
}

// MetadataFieldsOf converts back; an unspecified type reads as "" and is
// refused by settings validation.
func MetadataFieldsOf(fs []*authv1.MetadataField) []identity.MetadataField {
	out := make([]identity.MetadataField, len(fs))
	for i, f := range fs {
		t, _ := fieldTypes.Domain(f.GetType())
		out[i] = identity.MetadataField{Path: f.GetPath(), Name: f.GetName(), Required: f.GetRequired(), UserEditable: f.GetUserEditable(), Type: t}
	}
	return out
}

// PasswordPolicy converts a password policy.
func PasswordPolicy(p identity.PasswordPolicy) *authv1.PasswordPolicy {
	return &authv1.PasswordPolicy{MinLength: int32(p.MinLength), RequireUpper: p.RequireUpper, RequireLower: p.RequireLower,
		RequireDigit: p.RequireDigit, RequireSpecial: p.RequireSpecial}
}

// PasswordPolicyOf converts back.
func PasswordPolicyOf(p *authv1.PasswordPolicy) identity.PasswordPolicy {
	return identity.PasswordPolicy{MinLength: int(p.GetMinLength()), RequireUpper: p.GetRequireUpper(), RequireLower: p.GetRequireLower(),
		RequireDigit: p.GetRequireDigit(), RequireSpecial: p.GetRequireSpecial()}
}
