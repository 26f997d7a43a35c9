package cosyncjwt

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// ImportStore is what an import writes through. *store.Store satisfies it.
type ImportStore interface {
	GetApp(ctx context.Context, id string) (identity.App, error)
	UpdateApp(ctx context.Context, a identity.App) error
	InTx(ctx context.Context, fn func(tx identity.Store) error) error
}

// ImportBatch is how many users one transaction creates.
const ImportBatch = 500

// Why a row was skipped or imported with a caveat, as the report says it.
const (
	SkipExists        = "exists"              // a user with this email is already in the app (a second run skips everyone)
	SkipDuplicate     = "duplicate_in_export" // the same email twice in the export
	SkipNotEmail      = "not_an_email"        // the handle is not an email address
	SkipAnonymous     = "anonymous"           // ANON_ users sign in again anonymously
	SkipPendingSignup = "pending_signup"      // the user signs up again
	SkipOpenInvite    = "open_invitation"     // the inviter invites again

	NoteMetadataLost = "metadata_not_json"              // the cell held no JSON object ("[object Object]")
	NoteNoPassword   = "no_password"                    // social user: signs in after a password reset
	NoteTOTPDropped  = "authenticator_2fa_not_imported" // the export's secret is not carried; the user enrolls again
	NoteLocale       = "locale_not_in_app"              // the app's first locale was used
)

// ImportRow is one handle in a report.
type ImportRow struct {
	Line   int // in user-collection.csv; 0 for other files
	Handle string
	Reason string
}

// ImportReport says what an import did (or, dry, would do).
type ImportReport struct {
	DryRun   bool
	Imported int
	Skipped  []ImportRow
	Notes    []ImportRow // imported, with a caveat
	// AppTokenSet: the export's app token now names this app.
	AppTokenSet bool
}

// Import creates the export's users in the app so each signs in with
// their old password: the bcrypt(MD5) hash is stored as it is and
// checked at the first login, which replaces it with argon2id. It is
// idempotent (users whose email exists are skipped), writes in
// transactions of ImportBatch users with one audit event each, and with
// dryRun writes nothing. The app must have md5_prehashed_passwords on:
// turning it on for an app whose users set plain passwords would lock
// them out, so the import does not do it.
func Import(ctx context.Context, st ImportStore, appID string, ex Export, dryRun bool, now func() time.Time) (ImportReport, error) {
	const op = "cosyncjwt.Import"
	a, err := st.GetApp(ctx, appID)
	if err != nil {
		return ImportReport{}, err
	}
	if !a.Settings.CosyncJWT.MD5PrehashedPasswords {
		return ImportReport{}, apperr.New(apperr.Precondition, apperr.ReasonInvalidArgument,
			"turn md5_prehashed_passwords on first, in a new app for the CosyncJWT users (docs/cosyncjwt.md)").With(op, nil)
	}
	rep := ImportReport{DryRun: dryRun}
	seen := make(map[string]bool, len(ex.Users))
	var batch []identity.User
	hashes, lines := map[string]string{}, map[string]int{}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, skipped, err := writeBatch(ctx, st, a, batch, hashes, lines, dryRun, now)
		if err != nil {
			return err
		}
		rep.Imported += n
		rep.Skipped = append(rep.Skipped, skipped...)
		batch, hashes, lines = batch[:0], map[string]string{}, map[string]int{}
		return nil
	}
	for _, r := range ex.Users {
		u, notes, skip := userOf(a, r)
		if skip != "" {
			rep.Skipped = append(rep.Skipped, ImportRow{r.Line, r.Handle, skip})
			continue
		}
		if seen[u.Email] {
			rep.Skipped = append(rep.Skipped, ImportRow{r.Line, r.Handle, SkipDuplicate})
			continue
		}
		seen[u.Email] = true
		for _, n := range notes {
			rep.Notes = append(rep.Notes, ImportRow{r.Line, u.Email, n})
		}
		u.ID = uuid.Must(uuid.NewV7()).String()
		batch, hashes[u.ID], lines[u.ID] = append(batch, u), r.PasswordBcrypt, r.Line
		if len(batch) == ImportBatch {
			if err := flush(); err != nil {
				return rep, err
			}
		}
	}
	if err := flush(); err != nil {
		return rep, err
	}
	for _, h := range ex.Signups {
		rep.Skipped = append(rep.Skipped, ImportRow{0, h, SkipPendingSignup})
	}
	for _, h := range ex.Invites {
		rep.Skipped = append(rep.Skipped, ImportRow{0, h, SkipOpenInvite})
	}
	if ex.AppToken != "" && a.Settings.CosyncJWT.AppTokenHash == "" && !dryRun {
		a.Settings.CosyncJWT.AppTokenHash = identity.CosyncJWTTokenHash(ex.AppToken)
		a.Settings.CosyncJWT.AppTokenHint = "****" + ex.AppToken[max(0, len(ex.AppToken)-4):]
		a.UpdatedAt = now().UTC()
		if err := st.UpdateApp(ctx, a); err != nil {
			return rep, err
		}
		rep.AppTokenSet = true
	}
	return rep, nil
}

// userOf converts a row, or says why it is skipped.
func userOf(a identity.App, r ExportUser) (identity.User, []string, string) {
	h := strings.TrimSpace(r.Handle)
	if strings.HasPrefix(h, "ANON_") {
		return identity.User{}, nil, SkipAnonymous
	}
	email := identity.NormalizeEmail(h)
	if at := strings.LastIndexByte(email, '@'); at < 1 || at == len(email)-1 || strings.ContainsAny(email, " \t") {
		return identity.User{}, nil, SkipNotEmail
	}
	var notes []string
	md, ok := metadataOf(r.MetaData)
	if !ok {
		notes = append(notes, NoteMetadataLost)
	}
	if r.PasswordBcrypt == "" {
		notes = append(notes, NoteNoPassword)
	}
	locale := strings.ToLower(r.Locale)
	if !slices.Contains(a.Settings.Locales, locale) {
		if locale != "" && locale != "en" {
			notes = append(notes, NoteLocale)
		}
		locale = a.Settings.Locales[0]
	}
	u := identity.User{
		AppID: a.ID, Email: email, Metadata: md, Locale: locale, Status: identity.UserActive,
		TwoFactor: identity.TwoFactorNone, CreatedAt: r.CreatedAt, UpdatedAt: r.CreatedAt, LastLoginAt: r.LastLogin,
	}
	if r.Status != "" && r.Status != "active" {
		u.Status = identity.UserSuspended
	}
	if strings.HasPrefix(r.Phone, "+") && r.PhoneVerified {
		u.Phone, u.PhoneVerified = r.Phone, true
		if r.TwoFactorPhone {
			u.TwoFactor = identity.TwoFactorSMS
		}
	}
	if r.TwoFactorTOTP {
		notes = append(notes, NoteTOTPDropped)
	}
	return u, notes, ""
}

// writeBatch creates the users of one batch in one transaction, skipping
// those whose email exists.
func writeBatch(ctx context.Context, st ImportStore, a identity.App, users []identity.User, hashes map[string]string, lines map[string]int, dryRun bool, now func() time.Time) (int, []ImportRow, error) {
	var n int
	var skipped []ImportRow
	errDry := errors.New("dry run")
	err := st.InTx(ctx, func(tx identity.Store) error {
		n, skipped = 0, nil
		t := now().UTC().Truncate(time.Microsecond)
		for _, u := range users {
			if _, err := tx.FindUserByEmail(ctx, a.ID, u.Email); err == nil {
				skipped = append(skipped, ImportRow{lines[u.ID], u.Email, SkipExists})
				continue
			} else if !apperr.Is(err, apperr.NotFound) {
				return err
			}
			if u.CreatedAt.IsZero() {
				u.CreatedAt = t
			}
			if u.UpdatedAt.IsZero() {
				u.UpdatedAt = u.CreatedAt
			}
			if !dryRun {
				if err := tx.CreateUser(ctx, u, hashes[u.ID]); err != nil {
					return err
				}
			}
			n++
		}
		if dryRun {
			return errDry
		}
		if n == 0 {
			return nil
		}
		return tx.InsertAuditEvent(ctx, identity.AuditEvent{
			ID: uuid.Must(uuid.NewV7()).String(), AppID: a.ID, Action: "user.import", Outcome: identity.OutcomeSuccess,
			Details: map[string]any{"source": "cosyncjwt", "count": n}, OccurredAt: t,
		})
	})
	if errors.Is(err, errDry) {
		err = nil
	}
	return n, skipped, err
}
