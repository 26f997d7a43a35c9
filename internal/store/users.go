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
func (s *Store) findUser(ctx context.Context, op, appID, where string, arg any) (identity.User, error) {
	var row userRow
	err := s.idb.NewSelect().Model(&row).
		Column(userColumns...).
		ColumnExpr("password_hash IS NOT NULL AS has_password").
		Where("app_id = ?", appID).
		Where(where, arg).
		Scan(ctx)
	if err != nil {
		return identity.User{}, wrap(err, op)
	}
	u, err := row.user()
	if err != nil {
		return identity.User{}, apperr.Wrap(err, apperr.Internal, op)
	}
	return u, nil
}

// GetUser returns the user id of appID.
func (s *Store) GetUser(ctx context.Context, appID, id string) (identity.User, error) {
	return s.findUser(ctx, "store.GetUser", appID, "id = ?", id)
}

// FindUserByEmail returns the user of appID with email, which the caller
// has normalized.
func (s *Store) FindUserByEmail(ctx context.Context, appID, email string) (identity.User, error) {
	return s.findUser(ctx, "store.FindUserByEmail", appID, "email = ?", email)
}

// FindUserByUserName returns the user of appID whose user name equals
// userName ignoring case.
func (s *Store) FindUserByUserName(ctx context.Context, appID, userName string) (identity.User, error) {
	return s.findUser(ctx, "store.FindUserByUserName", appID, "user_name_key = ?", userNameKey(userName))
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
	var hash sql.NullString
	err := s.idb.NewSelect().Model((*userRow)(nil)).
		Column("password_hash").
		Where("app_id = ? AND id = ?", appID, userID).
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
