package cosyncjwt

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// The access-token a CosyncJWT client keeps is not a JWT here but a
// credential for one of our sessions:
//
//	cjwt1.<app id>.<user id>.<session id>.<mac>
//
// (ids base64url, mac = HMAC under the server pepper). It does not
// expire by itself — CosyncJWT's never did, and the SDKs have no way to
// renew one — but it works only while its session is live: logout,
// password change or reset, suspension and the session's absolute end
// (the app's refresh-token lifetime) revoke it at once.
const accessPrefix = "cjwt1"

const accessPurpose = "cosyncjwt access-token"

func (h *Handler) newAccess(appID, userID, sessionID string) string {
	subject := appID + "\x00" + userID + "\x00" + sessionID
	enc := base64.RawURLEncoding.EncodeToString
	return strings.Join([]string{accessPrefix, enc([]byte(appID)), enc([]byte(userID)), enc([]byte(sessionID)),
		h.mac.Hash(accessPurpose, subject, "")}, ".")
}

// verifyAccess checks an access-token and that its session is live.
func (h *Handler) verifyAccess(ctx context.Context, raw, ip string) (identity.Principal, identity.App, error) {
	invalid := fail(codeInvalidAccessToken, "the access token is not valid")
	parts := strings.Split(raw, ".")
	if len(parts) != 5 || parts[0] != accessPrefix {
		return identity.Principal{}, identity.App{}, invalid
	}
	var ids [3]string
	for i := range ids {
		b, err := base64.RawURLEncoding.DecodeString(parts[i+1])
		if err != nil {
			return identity.Principal{}, identity.App{}, invalid
		}
		ids[i] = string(b)
	}
	appID, userID, sessionID := ids[0], ids[1], ids[2]
	if !h.mac.Equal(parts[4], accessPurpose, appID+"\x00"+userID+"\x00"+sessionID, "") {
		return identity.Principal{}, identity.App{}, invalid
	}
	sess, err := h.store.GetSession(ctx, appID, sessionID)
	if apperr.Is(err, apperr.NotFound) || (err == nil && (sess.UserID != userID || !sess.Live(h.flows.Now()))) {
		return identity.Principal{}, identity.App{}, fail(codeInvalidAccessToken, "this session was signed out; sign in again")
	}
	if err != nil {
		return identity.Principal{}, identity.App{}, err
	}
	a, err := h.appOf(ctx, appID, ip)
	if err != nil {
		return identity.Principal{}, identity.App{}, err
	}
	return identity.Principal{AppID: appID, UserID: userID, SessionID: sessionID, IP: ip, Prehashed: true}, a, nil
}

// session is CosyncJWT's session reply: `jwt` is our access token (the
// app's key, audience and metadata claims), `access-token` the
// credential above. signed-user-token keeps Swift SDKs up to 1.1.21
// working on completeSignup and register (they require a string there).
type session struct {
	JWT             string `json:"jwt"`
	AccessToken     string `json:"access-token"`
	SignedUserToken string `json:"signed-user-token,omitempty"`
}

func (h *Handler) session(s identity.SessionTokens, signed bool) (session, error) {
	sid, err := sessionIDOf(s.AccessToken.Reveal())
	if err != nil {
		return session{}, err
	}
	out := session{JWT: s.AccessToken.Reveal(), AccessToken: h.newAccess(s.User.AppID, s.User.ID, sid)}
	if signed {
		out.SignedUserToken = out.JWT
	}
	return out, nil
}

// sessionIDOf reads the `sid` claim of an access token the flow just
// minted (so it needs no verifying).
func sessionIDOf(jwt string) (string, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "", errors.New("cosyncjwt: access token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("cosyncjwt: access token payload: %w", err)
	}
	var c struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.SID == "" {
		return "", fmt.Errorf("cosyncjwt: access token has no sid: %v", err)
	}
	return c.SID, nil
}
