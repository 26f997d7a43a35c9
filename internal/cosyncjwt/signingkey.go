package cosyncjwt

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/console"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/keys"
)

// errKeyRaced: another rotation changed the active key meanwhile.
var errKeyRaced = errors.New("the active signing key changed during the import")

// signingKey makes the key CosyncJWT signed the app's jwts with the app's
// active signing key, so Atlas/Realm configurations that hold its public
// key (rather than our JWKS URL) accept the jwts we mint. The key we
// generated turns verifying, as in a rotation: tokens it signed verify
// until it retires. The private key goes from the export to the signer
// (keys.Keyring.ImportKey) and is stored only sealed; a signer that
// cannot import (Vault Transit) leaves the app's keys as they are.
func (im Importer) signingKey(ctx context.Context, a identity.App, pem identity.Secret, dryRun bool, now func() time.Time, rep *ImportReport) error {
	if pem == "" {
		return nil
	}
	if im.Keys == nil || im.KeyStore == nil {
		rep.Skipped = append(rep.Skipped, ImportRow{0, keyRow, SkipKeyNotWired})
		return nil
	}
	rec, err := im.Keys.ImportKey(ctx, a.ID, pem)
	switch {
	case errors.Is(err, keys.ErrImportUnsupported):
		rep.Skipped = append(rep.Skipped, ImportRow{0, keyRow, SkipKeySigner})
		return nil
	case err != nil:
		rep.Skipped = append(rep.Skipped, ImportRow{0, keyRow, SkipKeyInvalid})
		return nil
	}
	existing, err := im.KeyStore.ListSigningKeys(ctx, a.ID)
	if err != nil {
		return err
	}
	var cur *identity.SigningKey
	for i := range existing {
		if existing[i].KID == rec.KID {
			rep.Skipped = append(rep.Skipped, ImportRow{0, rec.KID, SkipKeyExists})
			return nil
		}
		if existing[i].State == identity.KeyActive && cur == nil {
			cur = &existing[i]
		}
	}
	if a.Settings.KeyRotation.Interval > 0 {
		rep.Notes = append(rep.Notes, ImportRow{0, rec.KID, NoteKeyRotation})
	}
	if dryRun {
		rep.SigningKey = rec.KID
		return nil
	}
	t := now().UTC().Truncate(time.Microsecond)
	if cur != nil && !t.After(cur.CreatedAt) {
		t = cur.CreatedAt.Add(time.Microsecond) // keys list newest first: keep the imported one first
	}
	rec.CreatedAt = t
	retireAt := t.Add(retireAfter(a.Settings))
	err = im.KeyStore.InTx(ctx, func(tx console.Store) error {
		details := map[string]any{"kid": rec.KID, "backend": rec.Backend, "source": "cosyncjwt"}
		if cur != nil {
			ok, err := tx.DeactivateSigningKey(ctx, a.ID, cur.KID, t, retireAt)
			if err != nil {
				return err
			}
			if !ok {
				return errKeyRaced
			}
			details["previous_kid"] = cur.KID
		}
		if err := tx.CreateSigningKey(ctx, rec); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, identity.AuditEvent{
			ID: uuid.Must(uuid.NewV7()).String(), AppID: a.ID, Action: "key.import", Outcome: identity.OutcomeSuccess,
			ActorID: im.Actor, IP: im.IP, SubjectID: rec.KID, Details: details, OccurredAt: t,
		})
	})
	im.Keys.Invalidate(a.ID)
	if errors.Is(err, errKeyRaced) {
		return apperr.New(apperr.Precondition, "", "the app's signing key was rotated during the import; run it again").With("cosyncjwt.Import", err)
	}
	if err != nil {
		return err
	}
	rep.SigningKey = rec.KID
	return nil
}

// retireAfter is how long a replaced key stays published, by the rule of
// the console's rotation: the app's retire_after, or the token lifetime
// and an hour, and never less than a token lifetime plus the keys' cache.
func retireAfter(st identity.AppSettings) time.Duration {
	d := st.KeyRotation.RetireAfter
	if d == 0 {
		d = st.TokenLifetime + time.Hour
	}
	return max(d, st.TokenLifetime+identity.KeyCacheTTL)
}
