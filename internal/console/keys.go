package console

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// reasonRotationRaced is the reason of a rotation that lost to another.
const reasonRotationRaced = apperr.ReasonFailedPrecondition

// errRotationRaced is returned inside the rotation transaction when another
// rotation changed the app's active key first.
var errRotationRaced = errors.New("another rotation changed the active key first")

// Rotation reasons, in the audit event of a rotation.
const (
	RotateManual    = "manual"    // RotateSigningKey or `keys rotate`
	RotateScheduled = "scheduled" // the app's key_rotation.interval passed
	RotateBackend   = "backend"   // the active key is local and the server now signs with Vault
)

// RotateSigningKey gives the app a new signing key: it signs every token
// from now on, and the key it replaces turns verifying-only, staying in the
// JWKS until tokens it signed have expired (see RetireAfter). Developers
// Owners only.
func (s *Service) RotateSigningKey(ctx context.Context, d identity.Developer, appID string) (identity.PublicKey, error) {
	m, err := s.member(ctx, d, appID, identity.RoleOwner)
	if err != nil {
		return identity.PublicKey{}, err
	}
	rec, err := s.rotateKey(ctx, m.App, nil, d.ActorID(), d.IP, RotateManual)
	return rec.Public(), err
}

// RotateAppKey rotates an app's signing key for an operator
// (`cosync-auth keys rotate`), as RotateSigningKey does.
func (s *Service) RotateAppKey(ctx context.Context, appID string) (identity.PublicKey, error) {
	a, err := s.store.GetApp(ctx, appID)
	if apperr.Is(err, apperr.NotFound) {
		return identity.PublicKey{}, apperr.New(apperr.NotFound, apperr.ReasonAppNotFound, "no application with that id").With("console.RotateAppKey", err)
	}
	if err != nil {
		return identity.PublicKey{}, err
	}
	rec, err := s.rotateKey(ctx, a, nil, "", "", RotateManual)
	return rec.Public(), err
}

// SigningKeys lists an app's keys, newest first. A verifying key whose
// retire time has passed reads as retired even before the upkeep pass
// records it (the JWKS has dropped it already).
func (s *Service) SigningKeys(ctx context.Context, d identity.Developer, appID string) ([]identity.PublicKey, error) {
	if _, err := s.member(ctx, d, appID, identity.RoleViewer); err != nil {
		return nil, err
	}
	recs, err := s.store.ListSigningKeys(ctx, appID)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	out := make([]identity.PublicKey, len(recs))
	for i, r := range recs {
		out[i] = r.Public()
		if r.State == identity.KeyVerifying && !r.RetireAt.IsZero() && !now.Before(r.RetireAt) {
			out[i].State = identity.KeyRetired
		}
	}
	return out, nil
}

// retireAfter is how long a replaced key of an app stays in the JWKS: the
// app's key_rotation.retire_after, or its token lifetime plus an hour when
// that is zero; never less than the token lifetime plus the time other
// replicas may keep signing with the replaced key (identity.KeyCacheTTL).
func retireAfter(st identity.AppSettings) time.Duration {
	d := st.KeyRotation.RetireAfter
	if d == 0 {
		d = st.TokenLifetime + time.Hour
	}
	return max(d, st.TokenLifetime+identity.KeyCacheTTL)
}

// rotateKey makes a new key for a and swaps it in for cur, the active key
// the caller means to replace (nil: the app's active key now): cur turns
// verifying and the new key active, in one transaction. The key is made
// before the transaction (it may call Vault); if cur is no longer active
// by then (another rotation won), the new key is dropped unused and a
// FailedPrecondition error says so.
func (s *Service) rotateKey(ctx context.Context, a identity.App, cur *identity.SigningKey, actorID, ip, why string) (identity.SigningKey, error) {
	const op = "console.RotateSigningKey"
	if cur == nil {
		recs, err := s.store.ListSigningKeys(ctx, a.ID)
		if err != nil {
			return identity.SigningKey{}, err
		}
		for i := range recs {
			if recs[i].State == identity.KeyActive {
				cur = &recs[i]
				break
			}
		}
	}
	rec, err := s.keys.Generate(ctx, a.ID)
	if err != nil {
		return identity.SigningKey{}, keyErr(op, err)
	}
	now := s.clock()
	if cur != nil && !now.After(cur.CreatedAt) {
		// Keys are listed newest first by creation time; keep the new one first.
		now = cur.CreatedAt.Add(time.Microsecond)
	}
	rec.CreatedAt = now
	retireAt := now.Add(retireAfter(a.Settings))
	details := map[string]any{"kid": rec.KID, "backend": rec.Backend, "why": why}
	err = s.store.InTx(ctx, func(tx Store) error {
		if cur != nil {
			ok, err := tx.DeactivateSigningKey(ctx, a.ID, cur.KID, now, retireAt)
			if err != nil {
				return err
			}
			if !ok {
				return errRotationRaced
			}
			details["previous_kid"] = cur.KID
			details["previous_retire_at"] = retireAt.Format(time.RFC3339)
		}
		if err := tx.CreateSigningKey(ctx, rec); err != nil {
			if apperr.Is(err, apperr.Exists) { // the one-active-key index: a rotation without a current key raced
				return errRotationRaced
			}
			return err
		}
		return s.audit(ctx, tx, identity.AuditEvent{AppID: a.ID, Action: "key.rotate", ActorID: actorID, SubjectID: rec.KID, IP: ip, Details: details})
	})
	s.keys.Invalidate(a.ID)
	if errors.Is(err, errRotationRaced) {
		return identity.SigningKey{}, apperr.New(apperr.Precondition, reasonRotationRaced,
			"the key was rotated by another request at the same time; list the keys and try again if needed").With(op, err)
	}
	if err != nil {
		return identity.SigningKey{}, err
	}
	s.log.InfoContext(ctx, "signing key rotated", "app_id", a.ID, "kid", rec.KID, "backend", rec.Backend, "why", why)
	return rec, nil
}

// KeyUpkeep is what one MaintainKeys pass did.
type KeyUpkeep struct {
	Rotated map[string]string // app id → why (RotateScheduled or RotateBackend)
	Retired []identity.SigningKey
	Failed  map[string]error // app id → why its rotation failed
}

// keyPage is how many apps MaintainKeys reads at once.
const keyPage = 200

// MaintainKeys runs one pass of signing-key upkeep over every app: it
// records verifying keys whose retire time has passed as retired, and
// rotates the key of each app whose active key is due: older than the
// app's key_rotation.interval (when set), or local while the server signs
// with Vault, as after a move to Vault (the old key keeps verifying until
// its tokens expire). Moves only ever go towards Vault: during a rolling
// move, replicas still on the local signer do not move apps back (they
// answer Unavailable for moved apps until they are replaced), and a move
// back from Vault takes a `keys rotate` per app.
//
// Several replicas may run it at once: each key retires once, and of two
// rotations of one app one wins and the other is dropped unused. One app
// failing does not stop the pass; its error is in Failed.
func (s *Service) MaintainKeys(ctx context.Context) (KeyUpkeep, error) {
	up := KeyUpkeep{Rotated: map[string]string{}, Failed: map[string]error{}}
	retired, err := s.store.RetireSigningKeys(ctx, s.clock())
	if err != nil {
		return up, err
	}
	up.Retired = retired
	for _, r := range retired {
		s.keys.Invalidate(r.AppID)
		s.log.InfoContext(ctx, "signing key retired", "app_id", r.AppID, "kid", r.KID)
	}
	backend := s.keys.Name()
	for after := ""; ; {
		active, err := s.store.ListActiveSigningKeys(ctx, after, keyPage)
		if err != nil {
			return up, err
		}
		for _, cur := range active {
			after = cur.AppID
			why, err := s.rotationDue(ctx, cur, backend)
			if err == nil && why != "" {
				var a identity.App
				if a, err = s.store.GetApp(ctx, cur.AppID); err == nil {
					_, err = s.rotateKey(ctx, a, &cur, "", "", why)
				}
				if err == nil {
					up.Rotated[cur.AppID] = why
				}
			}
			if apperr.ReasonOf(err) == reasonRotationRaced || apperr.Is(err, apperr.NotFound) {
				continue // another replica rotated it, or the app is gone
			}
			if err != nil {
				up.Failed[cur.AppID] = err
				s.log.WarnContext(ctx, "key upkeep: rotation failed", "app_id", cur.AppID, "err", err)
			}
		}
		if len(active) < keyPage {
			break
		}
	}
	if len(up.Failed) > 0 {
		return up, fmt.Errorf("console.MaintainKeys: rotating %d apps' keys failed", len(up.Failed))
	}
	return up, nil
}

// rotationDue says why the app of cur needs a new key now, or "".
func (s *Service) rotationDue(ctx context.Context, cur identity.SigningKey, backend string) (string, error) {
	if cur.Backend == identity.KeyBackendLocal && backend == identity.KeyBackendVault {
		return RotateBackend, nil
	}
	if s.clock().Sub(cur.CreatedAt) < MinKeyRotationInterval {
		return "", nil // no interval is this short: spare the app read
	}
	a, err := s.store.GetApp(ctx, cur.AppID)
	if err != nil {
		return "", err
	}
	if iv := a.Settings.KeyRotation.Interval; iv > 0 && !s.clock().Before(cur.CreatedAt.Add(iv)) {
		return RotateScheduled, nil
	}
	return "", nil
}

// MinKeyRotationInterval is the shortest key_rotation.interval an app may set.
const MinKeyRotationInterval = 24 * time.Hour
