package identity

// Machine reasons carried by apperr.Error.Reason. Each is the name of a
// cosync.auth.v1.ErrorReason value without its ERROR_REASON_ prefix; the
// transport checks that every one exists in the contract.
const (
	ReasonInvalidArgument     = "INVALID_ARGUMENT"
	ReasonAppNotFound         = "APP_NOT_FOUND"
	ReasonAppSuspended        = "APP_SUSPENDED"
	ReasonAppIDRequired       = "APP_ID_REQUIRED"
	ReasonLocaleUnsupported   = "LOCALE_UNSUPPORTED"
	ReasonSignupDisabled      = "SIGNUP_DISABLED"
	ReasonPasswordPolicy      = "PASSWORD_POLICY"
	ReasonMetadataInvalid     = "METADATA_INVALID"
	ReasonMetadataNotEditable = "METADATA_NOT_EDITABLE"
	ReasonUserNamesDisabled   = "USER_NAMES_DISABLED"
	ReasonUserNameTaken       = "USER_NAME_TAKEN"
	ReasonUserNameAlreadySet  = "USER_NAME_ALREADY_SET"
	ReasonAnonymousDisabled   = "ANONYMOUS_DISABLED"
	ReasonInvitesDisabled     = "INVITES_DISABLED"
	ReasonInviteInvalid       = "INVITE_INVALID"
	ReasonInviteExpired       = "INVITE_EXPIRED"
	ReasonInviteRevoked       = "INVITE_REVOKED"
	ReasonInviteUsed          = "INVITE_USED"
	ReasonRedirectNotAllowed  = "REDIRECT_NOT_ALLOWED"
	ReasonInvalidCode         = "INVALID_CODE"
	ReasonCodeExpired         = "CODE_EXPIRED"
	ReasonTooManyAttempts     = "TOO_MANY_ATTEMPTS"
	ReasonInvalidCredentials  = "INVALID_CREDENTIALS"
	ReasonAccountSuspended    = "ACCOUNT_SUSPENDED"
	ReasonAccountLocked       = "ACCOUNT_LOCKED"
	ReasonTokenMissing        = "TOKEN_MISSING"
	ReasonTokenInvalid        = "TOKEN_INVALID"
	ReasonTokenExpired        = "TOKEN_EXPIRED"
	ReasonSessionRevoked      = "SESSION_REVOKED"
	ReasonRefreshInvalid      = "REFRESH_TOKEN_INVALID"
	ReasonRefreshReused       = "REFRESH_TOKEN_REUSED"
	ReasonRefreshExpired      = "REFRESH_TOKEN_EXPIRED"
	ReasonPermissionDenied    = "PERMISSION_DENIED"
	ReasonNotFound            = "NOT_FOUND"
	ReasonAlreadyExists       = "ALREADY_EXISTS"
	ReasonBuiltinApp          = "BUILTIN_APP"
	ReasonOutboxDisabled      = "OUTBOX_DISABLED"
	ReasonSignerUnavailable   = "SIGNER_UNAVAILABLE"
	ReasonMailUnavailable     = "MAIL_UNAVAILABLE"
	ReasonInternal            = "INTERNAL"
	ReasonNotImplemented      = "NOT_IMPLEMENTED"
)

// Social sign-in.
const (
	ReasonProviderDisabled = "PROVIDER_DISABLED"
	ReasonIDTokenInvalid   = "ID_TOKEN_INVALID"
	ReasonAccountExists    = "ACCOUNT_EXISTS"
	ReasonLastSignInMethod = "LAST_SIGN_IN_METHOD"
	ReasonNonceInvalid     = "NONCE_INVALID"
)

// Reasons of the second-factor and phone flows.
const (
	ReasonTwoFactorDisabled        = "TWO_FACTOR_DISABLED"
	ReasonTwoFactorNotEnrolled     = "TWO_FACTOR_NOT_ENROLLED"
	ReasonTwoFactorAlreadyEnrolled = "TWO_FACTOR_ALREADY_ENROLLED"
	ReasonLoginTokenInvalid        = "LOGIN_TOKEN_INVALID"
	ReasonLoginTokenExpired        = "LOGIN_TOKEN_EXPIRED"
	ReasonPhoneNotVerified         = "PHONE_NOT_VERIFIED"
	ReasonPhoneTaken               = "PHONE_TAKEN"
	ReasonSMSNotConfigured         = "SMS_NOT_CONFIGURED"
	ReasonSMSDeliveryFailed        = "SMS_DELIVERY_FAILED"
)
