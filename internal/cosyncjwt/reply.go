package cosyncjwt

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// CosyncJWT's error codes (the SDKs' CosyncJWTError numbers).
const (
	codeInvalidAppToken       = 400
	codeAppSuspended          = 402
	codeMissingParameter      = 403
	codeAccountSuspended      = 404
	codeInvalidAccessToken    = 405
	codeInviteNotSupported    = 406
	codeSignupNotSupported    = 407
	codeGoogle2FANotSupported = 408
	codePhone2FANotSupported  = 409
	codePhoneNotVerified      = 410
	codeExpiredSignupCode     = 411
	codePhoneInUse            = 412
	codeAnonymousNotSupported = 414
	codeAppleNotSupported     = 415
	codeGoogleNotSupported    = 416
	codeInternal              = 500
	codeInvalidCredentials    = 600
	codeHandleRegistered      = 601
	codeInvalidData           = 602
	codeAccountDoesNotExist   = 603
	codeInvalidMetaData       = 604
	codeUserNameInUse         = 605
	codeUserNamesNotSupported = 606
	codeEmailAccountExists    = 610
	codeInvalidSocialToken    = 613
)

// wireError is a CosyncJWT error as every SDK reads it: HTTP 400 and
// {"code": int, "message": string}.
type wireError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *wireError) Error() string { return strconv.Itoa(e.Code) + " " + e.Message }

func fail(code int, msg string) *wireError { return &wireError{Code: code, Message: msg} }

// byReason maps our typed reasons to CosyncJWT codes. Reasons whose code
// depends on the call (the second factor's "not on") are settled by the
// endpoint before it gets here.
var byReason = map[apperr.Reason]int{
	apperr.ReasonAppNotFound:              codeInvalidAppToken,
	apperr.ReasonAppIDRequired:            codeInvalidAppToken,
	apperr.ReasonAppSuspended:             codeAppSuspended,
	apperr.ReasonAccountSuspended:         codeAccountSuspended,
	apperr.ReasonTokenMissing:             codeInvalidAccessToken,
	apperr.ReasonTokenInvalid:             codeInvalidAccessToken,
	apperr.ReasonTokenExpired:             codeInvalidAccessToken,
	apperr.ReasonSessionRevoked:           codeInvalidAccessToken,
	apperr.ReasonInvitesDisabled:          codeInviteNotSupported,
	apperr.ReasonSignupDisabled:           codeSignupNotSupported,
	apperr.ReasonPhoneNotVerified:         codePhoneNotVerified,
	apperr.ReasonPhoneTaken:               codePhoneInUse,
	apperr.ReasonAnonymousDisabled:        codeAnonymousNotSupported,
	apperr.ReasonInvalidCredentials:       codeInvalidCredentials,
	apperr.ReasonAccountLocked:            codeInvalidCredentials,
	apperr.ReasonLoginTokenInvalid:        codeInvalidCredentials,
	apperr.ReasonLoginTokenExpired:        codeInvalidCredentials,
	apperr.ReasonAlreadyExists:            codeHandleRegistered,
	apperr.ReasonInvalidArgument:          codeInvalidData,
	apperr.ReasonInvalidCode:              codeInvalidData,
	apperr.ReasonCodeExpired:              codeInvalidData,
	apperr.ReasonTooManyAttempts:          codeInvalidData,
	apperr.ReasonPasswordPolicy:           codeInvalidData,
	apperr.ReasonLocaleUnsupported:        codeInvalidData,
	apperr.ReasonUserNameAlreadySet:       codeInvalidData,
	apperr.ReasonInviteInvalid:            codeInvalidData,
	apperr.ReasonInviteExpired:            codeInvalidData,
	apperr.ReasonInviteRevoked:            codeInvalidData,
	apperr.ReasonInviteUsed:               codeInvalidData,
	apperr.ReasonTwoFactorNotEnrolled:     codeInvalidData,
	apperr.ReasonTwoFactorAlreadyEnrolled: codeInvalidData,
	apperr.ReasonMetadataInvalid:          codeInvalidMetaData,
	apperr.ReasonMetadataNotEditable:      codeInvalidMetaData,
	apperr.ReasonUserNameTaken:            codeUserNameInUse,
	apperr.ReasonUserNamesDisabled:        codeUserNamesNotSupported,
	apperr.ReasonAccountExists:            codeEmailAccountExists,
	apperr.ReasonIDTokenInvalid:           codeInvalidSocialToken,
	apperr.ReasonNotFound:                 codeInvalidCredentials,
}

// wire converts a flow's error to what a CosyncJWT client reads. Rate
// limits, which CosyncJWT never had, read as 500 with a Retry-After header.
func wire(err error) (*wireError, time.Duration) {
	var we *wireError
	if errors.As(err, &we) {
		return we, 0
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		if ae.Kind() == apperr.RateLimited && ae.Reason() != apperr.ReasonAccountLocked {
			return fail(codeInternal, "too many requests; try again later"), ae.RetryAfter()
		}
		if c, ok := byReason[ae.Reason()]; ok {
			return fail(c, ae.Message()), 0
		}
		if ae.Kind() == apperr.Invalid {
			return fail(codeInvalidData, ae.Message()), 0
		}
	}
	return fail(codeInternal, "internal server error"), 0
}

// writeError answers HTTP 400 with the CosyncJWT error body, logging
// causes our clients never see.
func writeError(ctx context.Context, log *slog.Logger, w http.ResponseWriter, err error) {
	we, retry := wire(err)
	if we.Code == codeInternal && retry == 0 {
		log.ErrorContext(ctx, "cosyncjwt facade", "err", err)
	}
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(retry.Round(time.Second)/time.Second)))
	}
	writeJSON(w, http.StatusBadRequest, we)
}

// writeTrue answers the bare `true`: exactly four bytes, which the Swift
// SDK compares as a string.
func writeTrue(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("true"))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"code":500,"message":"internal server error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// jsTime is a time as JavaScript's toISOString writes it, the only form
// the Swift SDK parses: three fraction digits and Z.
func jsTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
