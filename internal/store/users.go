package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// userRow is a users row. PasswordHash is written by CreateUser and
// SetPasswordHash and read only by PasswordHash: user selects leave it out
// and ask the database whether there is one.
type userRow struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID    string `bun:"id,pk"`
	AppID string `bun:"app_id"`
	// Email, UserName and UserNameKey are NULL when empty, so the partial
	// unique indexes ignore users without them (anonymous users).
	Email         string    `bun:"email,nullzero"`
	UserName      string    `bun:"user_name,nullzero"`
	UserNameKey   string    `bun:"user_name_key,nullzero"` // userNameKey(UserName)
	Phone         string    `bun:"phone"`
	PhoneVerified bool      `bun:"phone_verified"`
	Metadata      string    `bun:"metadata,nullzero"` // JSON object; NULL for nil
	Locale        string    `bun:"locale"`
	Status        string    `bun:"status"`
	TwoFactor     string    `bun:"two_factor"`
	Anonymous     bool      `bun:"anonymous"`
	PasswordHash  string    `bun:"password_hash,nullzero"`
	HasPassword   bool      `bun:"has_password,scanonly"`
	FailedLogins  int       `bun:"failed_logins"`
	LockedUntil   time.Time `bun:"locked_until,nullzero"`
	CreatedAt     time.Time `bun:"created_at,nullzero"`
	UpdatedAt     time.Time `bun:"updated_at,nullzero"`
	LastLoginAt   time.Time `bun:"last_login_at,nullzero"`
}

// userColumns are the columns a user select reads: all but the hash.
var userColumns = []string{
	"id", "app_id", "email", "user_name", "user_name_key", "phone", "phone_verified",
	"metadata", "locale", "status", "two_factor", "anonymous", "failed_logins",
	"locked_until", "created_at", "updated_at", "last_login_at",
}

// profileColumns are the columns UpdateUser writes.
var profileColumns = []string{
	"email", "user_name", "user_name_key", "phone", "phone_verified", "metadata",
	"locale", "status", "two_factor", "anonymous", "updated_at",
}

// userNameKey is the form user names are unique in: lower case, in Go
// rather than SQL because SQLite's lower() folds ASCII only.
func userNameKey(userName string) string { return strings.ToLower(userName) }

func toUserRow(u identity.User) (userRow, error) {
	row := userRow{
		ID:            u.ID,
		AppID:         u.AppID,
		Email:         u.Email,
		UserName:      u.UserName,
		UserNameKey:   userNameKey(u.UserName),
		Phone:         u.Phone,
		PhoneVerified: u.PhoneVerified,
		Locale:        u.Locale,
		Status:        string(u.Status),
		TwoFactor:     string(u.TwoFactor),
		Anonymous:     u.Anonymous,
		FailedLogins:  u.FailedLogins,
		LockedUntil:   utc(u.LockedUntil),
		CreatedAt:     utc(u.CreatedAt),
		UpdatedAt:     utc(u.UpdatedAt),
		LastLoginAt:   utc(u.LastLoginAt),
	}
	if u.Metadata != nil {
		b, err := json.Marshal(u.Metadata)
		if err != nil {
			return userRow{}, err
		}
		row.Metadata = string(b)
	}
	return row, nil
}

// user converts the row. Metadata numbers come back as float64, as
// encoding/json (and structpb) give them.
func (r userRow) user() (identity.User, error) {
	u := identity.User{
		ID:            r.ID,
		AppID:         r.AppID,
		Email:         r.Email,
		UserName:      r.UserName,
		Phone:         r.Phone,
		PhoneVerified: r.PhoneVerified,
		Locale:        r.Locale,
		Status:        identity.UserStatus(r.Status),
		TwoFactor:     identity.TwoFactorMethod(r.TwoFactor),
		Anonymous:     r.Anonymous,
		HasPassword:   r.HasPassword,
		FailedLogins:  r.FailedLogins,
		LockedUntil:   utc(r.LockedUntil),
		CreatedAt:     utc(r.CreatedAt),
		UpdatedAt:     utc(r.UpdatedAt),
		LastLoginAt:   utc(r.LastLoginAt),
	}
	if r.Metadata != "" {
		if err := json.Unmarshal([]byte(r.Metadata), &u.Metadata); err != nil {
			return identity.User{}, err
		}
	}
	return u, nil
}

// CreateUser inserts u with passwordHash ("" for no password). Exists when
// the id, the email or the user name (ignoring case) is taken in the app;
// NotFound when the app does not exist.
func (s *Store) CreateUser(ctx context.Context, u identity.User, passwordHash string) error {
	const op = "store.CreateUser"
	row, err := toUserRow(u)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, op)
	}
	row.PasswordHash = passwordHash
	_, err = s.idb.NewInsert().Model(&row).Exec(ctx)
	return wrap(err, op)
}

// findUser returns the one user of appID matching where.
//
// where is a condition on the user's row with the placeholder $2 for
// value: the statement is prepared (prepared.go), so it holds no value.
func (s *Store) findUser(ctx context.Context, op, appID, where, value string) (identity.User, error) {
	u, _, err := s.findUserRow(ctx, op, appID, where, value, false)
	return u, err
}

// findUserRow is findUser, with the password hash too when withHash is set
// (else it stays in the database: "").
func (s *Store) findUserRow(ctx context.Context, op, appID, where, value string, withHash bool) (identity.User, string, error) {
	ctx, cancel := s.hot(ctx) // prepared.go
	defer cancel()
	var row userRow
	q := s.idb.NewSelect().Model(&row).
		Column(userColumns...).
		ColumnExpr("password_hash IS NOT NULL AS has_password")
	if withHash {
		q = q.Column("password_hash")
	}
	err := q.Where("app_id = $1 AND " + where).
		Conn(s.bound(appID, value)).
		Scan(ctx)
	if err != nil {
		return identity.User{}, "", wrap(err, op)
	}
	u, err := row.user()
	if err != nil {
		return identity.User{}, "", apperr.Wrap(err, apperr.Internal, op)
	}
	return u, row.PasswordHash, nil
}

// FindUserWithHash is FindUserByEmail (email set) or FindUserByUserName
// (else) with the user's password hash ("" for none) in the same read:
// what a password login and a reset request need, in one round trip.
func (s *Store) FindUserWithHash(ctx context.Context, appID, email, userName string) (identity.User, string, error) {
	if email == "" {
		return s.findUserRow(ctx, "store.FindUserWithHash", appID, "user_name_key = $2", userNameKey(userName), true)
	}
	return s.findUserRow(ctx, "store.FindUserWithHash", appID, "email = $2", email, true)
}

// GetUser returns the user id of appID.
func (s *Store) GetUser(ctx context.Context, appID, id string) (identity.User, error) {
	return s.findUser(ctx, "store.GetUser", appID, "id = $2", id)
}

// FindUserByEmail returns the user of appID with email, which the caller
// has normalized.
func (s *Store) FindUserByEmail(ctx context.Context, appID, email string) (identity.User, error) {
	return s.findUser(ctx, "store.FindUserByEmail", appID, "email = $2", email)
}

// FindUserByUserName returns the user of appID whose user name equals
// userName ignoring case.
func (s *Store) FindUserByUserName(ctx context.Context, appID, userName string) (identity.User, error) {
	return s.findUser(ctx, "store.FindUserByUserName", appID, "user_name_key = $2", userNameKey(userName))
}

// UpdateUser writes the profile fields of u: email, user name, phone,
// phone verified, metadata, locale, status, two-factor, anonymous and
// updated at. Exists on a taken email or user name; NotFound when there is
// no such user.
func (s *Store) UpdateUser(ctx context.Context, u identity.User) error {
	const op = "store.UpdateUser"
	row, err := toUserRow(u)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, op)
	}
	res, err := s.idb.NewUpdate().Model(&row).
		Column(profileColumns...).
		Where("app_id = ? AND id = ?", u.AppID, u.ID).
		Exec(ctx)
	return oneRow(res, err, op)
}

// PasswordHash returns the user's password hash, or "" when the user has
// no password.
func (s *Store) PasswordHash(ctx context.Context, appID, userID string) (string, error) {
	ctx, cancel := s.hot(ctx) // prepared.go
	defer cancel()
	var hash sql.NullString
	err := s.idb.NewSelect().Model((*userRow)(nil)).
		Column("password_hash").
		Where("app_id = $1 AND id = $2").
		Conn(s.bound(appID, userID)). // prepared: every password login (prepared.go)
		Scan(ctx, &hash)
	if err != nil {
		return "", wrap(err, "store.PasswordHash")
	}
	return hash.String, nil
}

// SetPasswordHash sets the user's password hash ("" removes the password)
// and updated-at time.
func (s *Store) SetPasswordHash(ctx context.Context, appID, userID, hash string, now time.Time) error {
	res, err := s.idb.NewUpdate().Model((*userRow)(nil)).
		Set("password_hash = ?", nullString(hash)).
		Set("updated_at = ?", now.UTC()).
		Where("app_id = ? AND id = ?", appID, userID).
		Exec(ctx)
	return oneRow(res, err, "store.SetPasswordHash")
}

// RecordLoginFailure counts one failed login in one statement, so
// concurrent failures each count, and returns the new count. When max > 0
// and the count reaches max, it locks the account until now +
// backoff(count - max + 1). The lock is written only while the count is
// still the one this call made, so when failures race the latest count's
// lock wins. backoff must not be nil when max > 0.
func (s *Store) RecordLoginFailure(ctx context.Context, appID, userID string, now time.Time, max int, backoff func(n int) time.Duration) (int, time.Time, error) {
	const op = "store.RecordLoginFailure"
	var count int
	err := s.idb.NewRaw(
		"UPDATE users SET failed_logins = failed_logins + 1 WHERE app_id = ? AND id = ? RETURNING failed_logins",
		appID, userID,
	).Scan(ctx, &count)
	if err != nil {
		return 0, time.Time{}, wrap(err, op)
	}
	if max <= 0 || count < max {
		return count, time.Time{}, nil
	}
	lockedUntil := now.UTC().Add(backoff(count - max + 1))
	_, err = s.idb.NewUpdate().Model((*userRow)(nil)).
		Set("locked_until = ?", lockedUntil).
		Where("app_id = ? AND id = ? AND failed_logins = ?", appID, userID, count).
		Exec(ctx)
	if err != nil {
		return count, time.Time{}, wrap(err, op)
	}
	return count, lockedUntil, nil
}

// RecordLoginSuccess clears the failure count and lock and sets the last
// login time.
func (s *Store) RecordLoginSuccess(ctx context.Context, appID, userID string, now time.Time) error {
	res, err := s.idb.NewUpdate().Model((*userRow)(nil)).
		Set("failed_logins = 0").
		Set("locked_until = NULL").
		Set("last_login_at = ?", now.UTC()).
		Where("app_id = ? AND id = ?", appID, userID).
		Exec(ctx)
	return oneRow(res, err, "store.RecordLoginSuccess")
}

// nullString is s, or NULL when s is empty.
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// DeleteUser removes a user; sessions and refresh tokens go with the row
// (ON DELETE CASCADE). Audit events keep the id, not the person.
func (s *Store) DeleteUser(ctx context.Context, appID, userID string) error {
	res, err := s.idb.NewDelete().Model((*userRow)(nil)).Where("app_id = ? AND id = ?", appID, userID).Exec(ctx)
	return oneRow(res, err, "store.DeleteUser")
}

// ListUsers returns up to limit users of appID matching f, newest first by
// (created_at, id), after the cursor (zero: from the newest). See
// filterUsers for how each filter finds its rows.
func (s *Store) ListUsers(ctx context.Context, appID string, f identity.UserFilter, after identity.UserCursor, limit int) ([]identity.User, error) {
	const op = "store.ListUsers"
	var rows []userRow
	q := s.idb.NewSelect().Model(&rows).
		Column(userColumns...).
		ColumnExpr("u.password_hash IS NOT NULL AS has_password")
	q = s.filterUsers(q, appID, f)
	if after.ID != "" {
		q = q.Where("(u.created_at, u.id) < (?, ?)", utc(after.CreatedAt), after.ID)
	}
	if err := q.OrderExpr("u.created_at DESC, u.id DESC").Limit(limit).Scan(ctx); err != nil {
		return nil, wrap(err, op)
	}
	out := make([]identity.User, len(rows))
	for i, r := range rows {
		u, err := r.user()
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Internal, op)
		}
		out[i] = u
	}
	return out, nil
}

// CountUsers counts the users of appID matching f.
func (s *Store) CountUsers(ctx context.Context, appID string, f identity.UserFilter) (int, error) {
	n, err := s.filterUsers(s.idb.NewSelect().Model((*userRow)(nil)), appID, f).Count(ctx)
	return n, wrap(err, "store.CountUsers")
}

// filterUsers narrows q (over users AS u) to appID's users matching f.
//
// The search ORs four ways of matching, each with an index on Postgres:
// email and user-name prefixes (LIKE on text_pattern_ops indexes; the
// columns hold lower case, and so does the prefix), the id (the primary
// key), and a whole metadata value, which a GIN index over
// cosync_metadata_values(metadata) — every string and number of the
// document, lower-cased by the database — answers with @>. A derived search
// column written by the store would have needed a backfill and a write on
// every profile change; the expression index needs neither. SQLite finds
// prefixes with a range on the unique (app_id, email) and (app_id,
// user_name_key) indexes and reads the app's users' metadata with
// json_tree: the embedded default serves small apps, where that scan is cheap.
func (s *Store) filterUsers(q *bun.SelectQuery, appID string, f identity.UserFilter) *bun.SelectQuery {
	q = q.Where("u.app_id = ?", appID)
	if f.Query != "" {
		prefix := strings.ToLower(f.Query)
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			if s.dialect == Postgres {
				pattern := likeEscaper.Replace(prefix) + "%"
				q = q.WhereOr("u.email LIKE ?", pattern).
					WhereOr("u.user_name_key LIKE ?", pattern).
					WhereOr("cosync_metadata_values(u.metadata) @> ARRAY[lower(?)]", f.Query)
			} else {
				end := prefixEnd(prefix)
				q = q.WhereOr("u.email >= ? AND u.email < ?", prefix, end).
					WhereOr("u.user_name_key >= ? AND u.user_name_key < ?", prefix, end).
					WhereOr(`EXISTS (SELECT 1 FROM json_tree(u.metadata) AS j
						WHERE j.type IN ('text', 'integer', 'real') AND lower(j.atom) = lower(?))`, f.Query)
			}
			return q.WhereOr("u.id = ?", f.Query)
		})
	}
	if f.Status != "" {
		q = q.Where("u.status = ?", string(f.Status))
	}
	if f.Anonymous != nil {
		q = q.Where("u.anonymous = ?", *f.Anonymous)
	}
	switch f.Provider {
	case "":
	case identity.ProviderPassword:
		q = q.Where("u.password_hash IS NOT NULL")
	default:
		q = q.Where("EXISTS (SELECT 1 FROM user_identities AS ui WHERE ui.user_id = u.id AND ui.provider = ?)", f.Provider)
	}
	if f.TwoFactor != "" {
		q = q.Where("u.two_factor = ?", string(f.TwoFactor))
	}
	for _, r := range []struct {
		col   string
		after time.Time
		until time.Time
	}{{"u.created_at", f.CreatedAfter, f.CreatedBefore}, {"u.last_login_at", f.LastLoginAfter, f.LastLoginBefore}} {
		if !r.after.IsZero() {
			q = q.Where("? >= ?", bun.Safe(r.col), utc(r.after))
		}
		if !r.until.IsZero() {
			q = q.Where("? < ?", bun.Safe(r.col), utc(r.until))
		}
	}
	return q
}

// likeEscaper escapes LIKE's wildcards with Postgres's default escape, the backslash.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// prefixEnd is the least string above every string that starts with the
// non-empty prefix p in byte order (SQLite's BINARY collation): p with its
// last byte raised by one. UTF-8 never uses the byte 0xFF, so it cannot overflow.
func prefixEnd(p string) string {
	b := []byte(p)
	b[len(b)-1]++
	return string(b)
}
