package cosyncjwt

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/console"
	"github.com/cosync/cosync-auth/internal/identity"
)

// ImportStore is what an import writes through. *store.Store satisfies it.
type ImportStore interface {
	GetApp(ctx context.Context, id string) (identity.App, error)
	UpdateApp(ctx context.Context, a identity.App) error
	FindUserByEmail(ctx context.Context, appID, email string) (identity.User, error)
	InTx(ctx context.Context, fn func(tx identity.Store) error) error
}

// ImportBatch is how many users one transaction creates.
const ImportBatch = 500

// Why a row was skipped or imported with a caveat, as the report says it.
const (
	SkipExists        = "exists"                          // the email is already a user (or has a pending signup or invitation), or the app has the authenticator: a second run skips everything
	SkipDuplicate     = "duplicate_in_export"             // the same email twice in the export
	SkipNotEmail      = "not_an_email"                    // the handle is not an email address
	SkipAnonymous     = "anonymous"                       // ANON_ users sign in again anonymously
	SkipPendingSignup = "pending_signup"                  // not carried over (no InFlight): the user signs up again
	SkipOpenInvite    = "open_invitation"                 // not carried over (no InFlight): the inviter invites again
	SkipSignupExpired = "signup_code_expired"             // CosyncJWT's 48 h from createdAt have passed (or it has no date)
	SkipKeyExists     = "signing_key_exists"              // the app already has this key
	SkipKeySigner     = "signing_key_not_imported_signer" // the signer (Vault Transit) cannot import a key yet
	SkipKeyInvalid    = "signing_key_invalid"             // appPrivateKey is not an RSA private key of 2048 bits or more
	SkipKeyNotWired   = "signing_key_not_imported"        // the import was run without a key importer

	NoteMetadataLost = "metadata_not_json"              // the cell held no JSON object ("[object Object]")
	NoteNoPassword   = "no_password"                    // social user: the next Apple/Google sign-in links to them where the app links verified emails
	NoteTOTPDropped  = "authenticator_2fa_not_imported" // no secret (or no InFlight) to carry: the user enrolls again
	NoteLocale       = "locale_not_in_app"              // the app's first locale was used
	NoteTOTPInvalid  = "authenticator_secret_invalid"   // googleSecretKey is not base32: the user enrolls again
	NoteKeyRotation  = "scheduled_key_rotation"         // the app rotates keys on a schedule, which would replace the imported key

	// SignupCodeLifetime is how long CosyncJWT kept a signup code.
	SignupCodeLifetime = 48 * time.Hour
	// keyRow names the app's key in report rows.
	keyRow = "appPrivateKey"
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
	// Signups, Invites and Authenticators count the pending signups, open
	// invitations and authenticator secrets carried over.
	Signups, Invites, Authenticators int
	// SigningKey is the kid of the app's CosyncJWT key, now its active
	// signing key; "" when it was not imported (Skipped says why).
	SigningKey string
}

// InFlight carries over what was in flight: pending signups, open
// invitations, authenticator secrets. *identity.Service satisfies it.
type InFlight interface {
	ImportPendingSignup(ctx context.Context, appID string, in identity.ImportedSignup, dryRun bool) (bool, error)
	ImportInvitation(ctx context.Context, appID string, in identity.ImportedInvitation, dryRun bool) (bool, error)
	ImportTotp(ctx context.Context, appID, userID string, secret identity.Secret, dryRun bool) (bool, error)
}

// SigningKeys takes in the app's CosyncJWT private key as the signer
// holds keys. *keys.Keyring satisfies it.
type SigningKeys interface {
	ImportKey(ctx context.Context, appID string, privatePEM identity.Secret) (identity.SigningKey, error)
	Invalidate(appID string)
}

// Importer imports a CosyncJWT export. Store is required; the others are
// optional: without InFlight the pending signups, open invitations and
// authenticators are reported and not carried over, without Keys (and
// KeyStore, *store.Store's Console()) the app's key is not. Now nil is
// time.Now.
type Importer struct {
	Store    ImportStore
	InFlight InFlight
	Keys     SigningKeys
	KeyStore console.Store
	Now      func() time.Time
	// Actor and IP name who ran the import in its audit events: the
	// developer or API key (ImportCosyncJwtUsers), or "cli" for
	// `cosync-auth import cosyncjwt`.
	Actor, IP string
}

// Import imports ex into appID with only st: users and the app token.
// Importer.Import does the rest too.
func Import(ctx context.Context, st ImportStore, appID string, ex Export, dryRun bool, now func() time.Time) (ImportReport, error) {
	return Importer{Store: st, Now: now}.Import(ctx, appID, ex, dryRun)
}

// Import creates the export's users in the app so each signs in with
// their old password: the bcrypt(MD5) hash is stored as it is and
// checked at the first login, which replaces it with argon2id. It
// carries over, where it can, what was in flight (pending signups and
// open invitations keep their codes, authenticators their secrets) and
// the key CosyncJWT signed the app's jwts with, which becomes the app's
// active signing key. It is idempotent (what exists is skipped), writes
// users in transactions of ImportBatch with one audit event each, and
// with dryRun writes nothing. The app must have md5_prehashed_passwords
// on: turning it on for an app whose users set plain passwords would lock
// them out, so the import does not do it.
func (im Importer) Import(ctx context.Context, appID string, ex Export, dryRun bool) (ImportReport, error) {
	const op = "cosyncjwt.Import"
	st, now := im.Store, im.Now
	if now == nil {
		now = time.Now
	}
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
	hashes, lines, secrets := map[string]string{}, map[string]int{}, map[string]identity.Secret{}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		created, skipped, err := writeBatch(ctx, st, a, batch, hashes, lines, dryRun, now, im.Actor, im.IP)
		if err != nil {
			return err
		}
		rep.Imported += len(created)
		rep.Skipped = append(rep.Skipped, skipped...)
		for _, u := range created {
			if err := im.totp(ctx, a, u, secrets[u.ID], lines[u.ID], dryRun, &rep); err != nil {
				return err
			}
		}
		batch, hashes, lines, secrets = batch[:0], map[string]string{}, map[string]int{}, map[string]identity.Secret{}
		return nil
	}
	for _, r := range ex.Users {
		u, notes, skip := userOf(a, r, im.InFlight != nil)
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
		if r.TwoFactorTOTP && im.InFlight != nil {
			secrets[u.ID] = r.GoogleSecret
		}
		if len(batch) == ImportBatch {
			if err := flush(); err != nil {
				return rep, err
			}
		}
	}
	if err := flush(); err != nil {
		return rep, err
	}
	if err := im.signups(ctx, a, ex.Signups, dryRun, now, &rep); err != nil {
		return rep, err
	}
	if err := im.invites(ctx, a, ex.Invites, dryRun, now, &rep); err != nil {
		return rep, err
	}
	if err := im.signingKey(ctx, a, ex.AppPrivateKey, dryRun, now, &rep); err != nil {
		return rep, err
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
func userOf(a identity.App, r ExportUser, totp bool) (identity.User, []string, string) {
	if skip := notEmail(r.Handle); skip != "" {
		return identity.User{}, nil, skip
	}
	email := identity.NormalizeEmail(r.Handle)
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
	if r.TwoFactorTOTP && (!totp || r.GoogleSecret == "") {
		notes = append(notes, NoteTOTPDropped)
	}
	return u, notes, ""
}

// notEmail says why handle is not imported as an email: it is anonymous
// or not an address. "" when it is an address.
func notEmail(handle string) string {
	h := strings.TrimSpace(handle)
	if strings.HasPrefix(h, "ANON_") {
		return SkipAnonymous
	}
	email := identity.NormalizeEmail(h)
	if at := strings.LastIndexByte(email, '@'); at < 1 || at == len(email)-1 || strings.ContainsAny(email, " \t") {
		return SkipNotEmail
	}
	return ""
}

// writeBatch creates the users of one batch in one transaction, skipping
// those whose email exists.
func writeBatch(ctx context.Context, st ImportStore, a identity.App, users []identity.User, hashes map[string]string, lines map[string]int, dryRun bool, now func() time.Time, actor, ip string) ([]identity.User, []ImportRow, error) {
	var created []identity.User
	var skipped []ImportRow
	errDry := errors.New("dry run")
	err := st.InTx(ctx, func(tx identity.Store) error {
		created, skipped = nil, nil
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
			created = append(created, u)
		}
		if dryRun {
			return errDry
		}
		if len(created) == 0 {
			return nil
		}
		return tx.InsertAuditEvent(ctx, identity.AuditEvent{
			ID: uuid.Must(uuid.NewV7()).String(), AppID: a.ID, Action: "user.import", Outcome: identity.OutcomeSuccess,
			ActorID: actor, IP: ip, Details: map[string]any{"source": "cosyncjwt", "count": len(created)}, OccurredAt: t,
		})
	})
	if errors.Is(err, errDry) {
		err = nil
	}
	if err != nil {
		created = nil
	}
	return created, skipped, err
}
