package cosyncjwt

import (
	"context"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// totp turns on the authenticator of u, just imported, with the secret
// the export kept, so the user's authenticator app keeps working.
func (im Importer) totp(ctx context.Context, a identity.App, u identity.User, secret identity.Secret, line int, dryRun bool, rep *ImportReport) error {
	if secret == "" || im.InFlight == nil {
		return nil
	}
	ok, err := im.InFlight.ImportTotp(ctx, a.ID, u.ID, secret, dryRun)
	switch {
	case apperr.Is(err, apperr.Invalid):
		rep.Notes = append(rep.Notes, ImportRow{line, u.Email, NoteTOTPInvalid})
		return nil
	case err != nil:
		return err
	case ok:
		rep.Authenticators++
	}
	return nil
}

// signups carries the pending signups over: the code each person holds
// completes the signup until CosyncJWT's SignupCodeLifetime from its
// createdAt would have ended it.
func (im Importer) signups(ctx context.Context, a identity.App, rows []ExportSignup, dryRun bool, now func() time.Time, rep *ImportReport) error {
	for _, r := range rows {
		if im.InFlight == nil {
			rep.Skipped = append(rep.Skipped, ImportRow{0, r.Handle, SkipPendingSignup})
			continue
		}
		if skip := notEmail(r.Handle); skip != "" {
			rep.Skipped = append(rep.Skipped, ImportRow{0, r.Handle, skip})
			continue
		}
		expires := r.CreatedAt.Add(SignupCodeLifetime)
		if r.CreatedAt.IsZero() || !now().Before(expires) || r.PasswordBcrypt == "" || r.Code == "" {
			rep.Skipped = append(rep.Skipped, ImportRow{0, r.Handle, SkipSignupExpired})
			continue
		}
		md, _ := metadataOf(r.MetaData)
		ok, err := im.InFlight.ImportPendingSignup(ctx, a.ID, identity.ImportedSignup{
			Handle: r.Handle, PasswordHash: r.PasswordBcrypt, Code: r.Code, Metadata: md, Locale: r.Locale,
			CreatedAt: r.CreatedAt, ExpiresAt: expires,
		}, dryRun)
		if err != nil {
			return err
		}
		if !ok {
			rep.Skipped = append(rep.Skipped, ImportRow{0, r.Handle, SkipExists})
			continue
		}
		rep.Signups++
	}
	return nil
}

// invites carries the open invitations over: the code each person holds
// registers them for the app's invitation lifetime from the import (the
// export says nothing of when CosyncJWT's would have ended). The inviter
// is the user the export names, when they are a user of the app.
func (im Importer) invites(ctx context.Context, a identity.App, rows []ExportInvite, dryRun bool, now func() time.Time, rep *ImportReport) error {
	for _, r := range rows {
		if im.InFlight == nil {
			rep.Skipped = append(rep.Skipped, ImportRow{0, r.Handle, SkipOpenInvite})
			continue
		}
		if skip := notEmail(r.Handle); skip != "" {
			rep.Skipped = append(rep.Skipped, ImportRow{0, r.Handle, skip})
			continue
		}
		var inviter string
		if r.SenderHandle != "" {
			u, err := im.Store.FindUserByEmail(ctx, a.ID, identity.NormalizeEmail(r.SenderHandle))
			if err != nil && !apperr.Is(err, apperr.NotFound) {
				return err
			}
			inviter = u.ID
		}
		md, _ := metadataOf(r.MetaData)
		t := now().UTC()
		ok, err := im.InFlight.ImportInvitation(ctx, a.ID, identity.ImportedInvitation{
			Handle: r.Handle, Code: r.Code, InviterID: inviter, Metadata: md,
			CreatedAt: r.CreatedAt, ExpiresAt: t.Add(a.Settings.InviteLifetime),
		}, dryRun)
		if err != nil {
			return err
		}
		if !ok {
			rep.Skipped = append(rep.Skipped, ImportRow{0, r.Handle, SkipExists})
			continue
		}
		rep.Invites++
	}
	return nil
}
