package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

type sessionRow struct {
	bun.BaseModel `bun:"table:sessions,alias:s"`

	ID           string    `bun:"id,pk"`
	AppID        string    `bun:"app_id"`
	UserID       string    `bun:"user_id"`
	CreatedAt    time.Time `bun:"created_at,nullzero"`
	ExpiresAt    time.Time `bun:"expires_at,nullzero"`
	RevokedAt    time.Time `bun:"revoked_at,nullzero"`
	RevokeReason string    `bun:"revoke_reason"`
	IP           string    `bun:"ip"`
	UserAgent    string    `bun:"user_agent"`
	Method       string    `bun:"method"`
	LastUsedAt   time.Time `bun:"last_used_at,nullzero"`
}

func toSessionRow(s identity.Session) sessionRow {
	return sessionRow{
		ID:           s.ID,
		AppID:        s.AppID,
		UserID:       s.UserID,
		CreatedAt:    utc(s.CreatedAt),
		ExpiresAt:    utc(s.ExpiresAt),
		RevokedAt:    utc(s.RevokedAt),
		RevokeReason: s.RevokeReason,
		IP:           s.IP,
		UserAgent:    s.UserAgent,
		Method:       s.Method,
		LastUsedAt:   utc(s.LastUsedAt),
	}
}

func (r sessionRow) session() identity.Session {
	return identity.Session{
		ID:           r.ID,
		AppID:        r.AppID,
		UserID:       r.UserID,
		CreatedAt:    utc(r.CreatedAt),
		ExpiresAt:    utc(r.ExpiresAt),
		RevokedAt:    utc(r.RevokedAt),
		RevokeReason: r.RevokeReason,
		IP:           r.IP,
		UserAgent:    r.UserAgent,
		Method:       r.Method,
		LastUsedAt:   utc(r.LastUsedAt),
	}
}

// The columns of sessionRow, identityRow and refreshTokenRow, named for
// prepared statements (a column a migration adds cannot change what one
// returns). TestGetSessionUser checks the first two, column by column.
var (
	sessionColumns      = []string{"id", "app_id", "user_id", "created_at", "expires_at", "revoked_at", "revoke_reason", "ip", "user_agent", "method", "last_used_at"}
	identityColumns     = []string{"id", "app_id", "user_id", "provider", "subject", "email", "given_name", "family_name", "created_at", "last_used_at"}
	refreshTokenColumns = []string{"id", "app_id", "session_id", "parent_id", "hash", "created_at", "expires_at", "rotated_at"}
)

type refreshTokenRow struct {
	bun.BaseModel `bun:"table:refresh_tokens,alias:rt"`

	ID        string    `bun:"id,pk"`
	AppID     string    `bun:"app_id"`
	SessionID string    `bun:"session_id"`
	ParentID  string    `bun:"parent_id,nullzero"` // NULL for a session's first token
	Hash      string    `bun:"hash"`
	CreatedAt time.Time `bun:"created_at,nullzero"`
	ExpiresAt time.Time `bun:"expires_at,nullzero"`
	RotatedAt time.Time `bun:"rotated_at,nullzero"`
}

func toRefreshTokenRow(t identity.RefreshToken) refreshTokenRow {
	return refreshTokenRow{
		ID:        t.ID,
		AppID:     t.AppID,
		SessionID: t.SessionID,
		ParentID:  t.ParentID,
		Hash:      t.Hash,
		CreatedAt: utc(t.CreatedAt),
		ExpiresAt: utc(t.ExpiresAt),
		RotatedAt: utc(t.RotatedAt),
	}
}

func (r refreshTokenRow) refreshToken() identity.RefreshToken {
	return identity.RefreshToken{
		ID:        r.ID,
		AppID:     r.AppID,
		SessionID: r.SessionID,
		ParentID:  r.ParentID,
		Hash:      r.Hash,
		CreatedAt: utc(r.CreatedAt),
		ExpiresAt: utc(r.ExpiresAt),
		RotatedAt: utc(r.RotatedAt),
	}
}

// CreateSession inserts the session. NotFound when the app or user does
// not exist.
func (s *Store) CreateSession(ctx context.Context, sess identity.Session) error {
	row := toSessionRow(sess)
	_, err := s.idb.NewInsert().Model(&row).Exec(ctx)
	return wrap(err, "store.CreateSession")
}

// GetSession returns the session id of appID, live or not.
func (s *Store) GetSession(ctx context.Context, appID, id string) (identity.Session, error) {
	ctx, cancel := s.hot(ctx) // prepared.go
	defer cancel()
	var row sessionRow
	// Prepared (prepared.go): every bearer's call checks its session.
	err := s.idb.NewSelect().Model(&row).Where("app_id = $1 AND id = $2").Conn(s.bound(appID, id)).Scan(ctx)
	if err != nil {
		return identity.Session{}, wrap(err, "store.GetSession")
	}
	return row.session(), nil
}

// RevokeSession marks the session revoked at now for reason. Revoking a
// revoked session changes nothing and is not an error; NotFound when there
// is no such session.
func (s *Store) RevokeSession(ctx context.Context, appID, id, reason string, now time.Time) error {
	const op = "store.RevokeSession"
	res, err := s.idb.NewUpdate().Model((*sessionRow)(nil)).
		Set("revoked_at = ?", now.UTC()).
		Set("revoke_reason = ?", reason).
		Where("app_id = ? AND id = ? AND revoked_at IS NULL", appID, id).
		Exec(ctx)
	ok, err := changed(res, err, op)
	if ok || err != nil {
		return err
	}
	return s.mustExist(ctx, op, (*sessionRow)(nil), appID, id)
}

// RevokeUserSessions revokes every live session (not revoked, not expired
// at now) of the user except exceptID (empty: all) and returns how many it
// revoked.
func (s *Store) RevokeUserSessions(ctx context.Context, appID, userID, exceptID, reason string, now time.Time) (int, error) {
	const op = "store.RevokeUserSessions"
	now = now.UTC()
	q := s.idb.NewUpdate().Model((*sessionRow)(nil)).
		Set("revoked_at = ?", now).
		Set("revoke_reason = ?", reason).
		Where("app_id = ? AND user_id = ?", appID, userID).
		Where("revoked_at IS NULL AND expires_at > ?", now)
	if exceptID != "" {
		q = q.Where("id <> ?", exceptID)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return 0, wrap(err, op)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap(err, op)
	}
	return int(n), nil
}

// CreateRefreshToken inserts the token. Exists when its hash is taken;
// NotFound when the app or session does not exist.
func (s *Store) CreateRefreshToken(ctx context.Context, t identity.RefreshToken) error {
	row := toRefreshTokenRow(t)
	_, err := s.idb.NewInsert().Model(&row).Exec(ctx)
	return wrap(err, "store.CreateRefreshToken")
}

// FindRefreshToken returns the token of appID with hash, rotated or not.
func (s *Store) FindRefreshToken(ctx context.Context, appID, hash string) (identity.RefreshToken, error) {
	var row refreshTokenRow
	err := s.idb.NewSelect().Model(&row).Where("app_id = ? AND hash = ?", appID, hash).Scan(ctx)
	if err != nil {
		return identity.RefreshToken{}, wrap(err, "store.FindRefreshToken")
	}
	return row.refreshToken(), nil
}

// refreshSessionRow is a refresh token read with its session and the
// session's user in one statement (joins), for RefreshSession, each under
// a prefix so bun scans a flat row by name.
type refreshSessionRow struct {
	N       int             `bun:"i_n,scanonly"` // which lookup of a batch it answers
	Token   refreshTokenRow `bun:"embed:t_"`
	Session sessionRow      `bun:"embed:s_"`
	User    userRow         `bun:"embed:u_"`
}

// refreshSessionQuery is FindRefreshSession's statement for a batch of n
// lookups (batch.go), each a row of VALUES: named columns and $n
// parameters, for a prepared statement (prepared.go); the password hash
// stays in the database (has_password only). A VALUES list tells the
// planner how many rows come in, so it looks each up by its unique hash
// as the statement for one would (a set-returning function would count
// as 100 rows, and a plan made while the table is small would then scan
// it whole on every call as it grows).
func refreshSessionQuery(n int) string {
	return selectPrefixed([]columnGroup{{"i", []string{"n"}}, {"t", refreshTokenColumns}, {"s", sessionColumns}, {"u", userColumns}}) + `,
	u.password_hash IS NOT NULL AS u_has_password
	FROM (VALUES ` + valuesRows(n, "integer", "text", "text") + `) AS i (n, app_id, hash)
	JOIN refresh_tokens AS t ON t.app_id = i.app_id AND t.hash = i.hash
	JOIN sessions AS s ON s.app_id = t.app_id AND s.id = t.session_id
	JOIN users AS u ON u.app_id = s.app_id AND u.id = s.user_id`
}

// refreshSessionQueries and rotateQueries are the statements for each
// batch size, built once: [n] for n calls.
var refreshSessionQueries, rotateQueries = batchTexts(refreshSessionQuery), batchTexts(rotateQuery)

// batchTexts is query(n) for each n up to maxBatch, at [n].
func batchTexts(query func(n int) string) []string {
	texts := make([]string, maxBatch+1)
	for n := 1; n <= maxBatch; n++ {
		texts[n] = query(n)
	}
	return texts
}

// queryText is texts[n] from batchTexts, or query(n) past maxBatch.
func queryText(texts []string, query func(n int) string, n int) string {
	if n < len(texts) {
		return texts[n]
	}
	return query(n)
}

// refreshLookup is one FindRefreshSession.
type refreshLookup struct{ AppID, Hash string }

// FindRefreshSession is FindRefreshToken, GetSession of its session and
// GetUser of the session's user in one round trip, which concurrent calls
// share on Postgres (batch.go). NotFound when there is no such token (the
// foreign keys keep its session and user).
func (s *Store) FindRefreshSession(ctx context.Context, appID, hash string) (identity.RefreshToken, identity.Session, identity.User, error) {
	const op = "store.FindRefreshSession"
	var (
		row *refreshSessionRow
		err error
	)
	switch {
	case s.dialect != Postgres:
		row, err = s.findRefreshSessionSQLite(ctx, appID, hash)
	case s.inTx || s.refreshReads == nil:
		var rows []*refreshSessionRow
		if rows, err = s.findRefreshSessions(ctx, []refreshLookup{{AppID: appID, Hash: hash}}); err == nil {
			row = rows[0]
		}
	default:
		row, err = s.refreshReads.do(ctx, refreshLookup{AppID: appID, Hash: hash})
	}
	if err != nil {
		return identity.RefreshToken{}, identity.Session{}, identity.User{}, wrap(err, op)
	}
	if row == nil {
		return identity.RefreshToken{}, identity.Session{}, identity.User{}, notFound(op)
	}
	u, err := row.User.user()
	if err != nil {
		return identity.RefreshToken{}, identity.Session{}, identity.User{}, apperr.Wrap(err, apperr.Internal, op)
	}
	return row.Token.refreshToken(), row.Session.session(), u, nil
}

// findRefreshSessions runs lookups as one prepared statement
// (refreshSessionQuery); nil for a token not found.
func (s *Store) findRefreshSessions(ctx context.Context, ls []refreshLookup) ([]*refreshSessionRow, error) {
	ctx, cancel := s.hot(ctx) // prepared.go
	defer cancel()
	args := make([]any, 0, 3*len(ls))
	for i, l := range ls {
		args = append(args, int64(i), l.AppID, l.Hash)
	}
	var rows []refreshSessionRow
	if err := s.idb.NewRaw(refreshSessionQueries[len(ls)]).Conn(s.bound(args...)).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make([]*refreshSessionRow, len(ls))
	for i := range rows {
		out[rows[i].N] = &rows[i]
	}
	return out, nil
}

// refreshSessionSQLiteQuery is refreshSessionQuery for one token on SQLite,
// whose VALUES takes neither column names nor casts (and whose one writer
// gains nothing from batches).
var refreshSessionSQLiteQuery = selectPrefixed([]columnGroup{{"t", refreshTokenColumns}, {"s", sessionColumns}, {"u", userColumns}}) + `,
	u.password_hash IS NOT NULL AS u_has_password
	FROM refresh_tokens AS t
	JOIN sessions AS s ON s.app_id = t.app_id AND s.id = t.session_id
	JOIN users AS u ON u.app_id = s.app_id AND u.id = s.user_id
	WHERE t.app_id = ? AND t.hash = ?`

// findRefreshSessionSQLite runs refreshSessionSQLiteQuery; nil for a token
// not found.
func (s *Store) findRefreshSessionSQLite(ctx context.Context, appID, hash string) (*refreshSessionRow, error) {
	var rows []refreshSessionRow
	if err := s.idb.NewRaw(refreshSessionSQLiteQuery, appID, hash).Scan(ctx, &rows); err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

// columnGroup is a table alias and the columns to select from it.
type columnGroup struct {
	alias string
	cols  []string
}

// selectPrefixed is "SELECT a.col AS a_col, …" for each group: the flat
// names a struct of `bun:"embed:a_"` fields scans.
func selectPrefixed(groups []columnGroup) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, g := range groups {
		for j, c := range g.cols {
			if i+j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s.%s AS %s_%s", g.alias, c, g.alias, c)
		}
	}
	return b.String()
}

// sessionUserIdentityRow is one row of GetSessionUser: a session, its user
// and (a LEFT JOIN: one row per identity, NULLs for none) one of the user's
// linked identities, each under a prefix, so bun scans a flat row by name.
type sessionUserIdentityRow struct {
	Session  sessionRow  `bun:"embed:s_"`
	User     userRow     `bun:"embed:u_"`
	Identity identityRow `bun:"embed:i_"`
}

// sessionUserQuery is GetSessionUser's statement: named columns, for a
// prepared statement (prepared.go); the password hash stays in the
// database (has_password only).
var sessionUserQuery = selectPrefixed([]columnGroup{{"s", sessionColumns}, {"u", userColumns}, {"i", identityColumns}}) + `,
	u.password_hash IS NOT NULL AS u_has_password
	FROM sessions AS s
	JOIN users AS u ON u.app_id = s.app_id AND u.id = s.user_id
	LEFT JOIN user_identities AS i ON i.app_id = u.app_id AND i.user_id = u.id
	WHERE s.app_id = $1 AND s.id = $2
	ORDER BY i.provider, i.id`

// GetSessionUser is GetSession, GetUser of the session's user and
// ListIdentities of that user in one round trip: what a bearer's call
// reads to check its session (identity.Service.Authenticate) and GetUser
// answers with. NotFound when there is no such session.
func (s *Store) GetSessionUser(ctx context.Context, appID, id string) (identity.Session, identity.User, []identity.LinkedIdentity, error) {
	const op = "store.GetSessionUser"
	ctx, cancel := s.hot(ctx) // prepared.go
	defer cancel()
	var rows []sessionUserIdentityRow
	if err := s.idb.NewRaw(sessionUserQuery).Conn(s.bound(appID, id)).Scan(ctx, &rows); err != nil {
		return identity.Session{}, identity.User{}, nil, wrap(err, op)
	}
	if len(rows) == 0 { // the join to users cannot drop a session: the foreign key holds it
		return identity.Session{}, identity.User{}, nil, notFound(op)
	}
	u, err := rows[0].User.user()
	if err != nil {
		return identity.Session{}, identity.User{}, nil, apperr.Wrap(err, apperr.Internal, op)
	}
	ids := []identity.LinkedIdentity{} // as ListIdentities gives them
	for _, r := range rows {
		if r.Identity.ID != "" { // a user without any: one row of NULLs
			ids = append(ids, r.Identity.linkedIdentity())
		}
	}
	return rows[0].Session.session(), u, ids, nil
}

// MarkRefreshTokenRotated sets the token's rotation time to now if it is
// unset, in one statement, and reports whether this call set it: at most
// one caller ever gets true. That caller also records now as the session's
// last use: on Postgres in the same statement (a data-modifying WITH), so
// the refresh path makes no extra round trip; SQLite has no such WITH, and
// runs a second UPDATE in the same transaction, in process. NotFound when
// there is no such token.
func (s *Store) MarkRefreshTokenRotated(ctx context.Context, appID, id string, now time.Time) (bool, error) {
	const op = "store.MarkRefreshTokenRotated"
	now = now.UTC()
	var won bool
	if s.dialect == Postgres {
		var n int
		err := s.idb.NewRaw(`WITH rt AS (
				UPDATE refresh_tokens SET rotated_at = ? WHERE app_id = ? AND id = ? AND rotated_at IS NULL RETURNING session_id
			), used AS (
				UPDATE sessions SET last_used_at = ? WHERE app_id = ? AND id IN (SELECT session_id FROM rt)
			)
			SELECT count(*) FROM rt`, now, appID, id, now, appID).Scan(ctx, &n)
		if err != nil {
			return false, wrap(err, op)
		}
		won = n > 0
	} else {
		var sessionIDs []string
		err := s.idb.NewUpdate().Model((*refreshTokenRow)(nil)).
			Set("rotated_at = ?", now).
			Where("app_id = ? AND id = ? AND rotated_at IS NULL", appID, id).
			Returning("session_id").
			Scan(ctx, &sessionIDs)
		if err != nil {
			return false, wrap(err, op)
		}
		if won = len(sessionIDs) > 0; won {
			_, err := s.idb.NewUpdate().Model((*sessionRow)(nil)).
				Set("last_used_at = ?", now).
				Where("app_id = ? AND id = ?", appID, sessionIDs[0]).
				Exec(ctx)
			if err != nil {
				return false, wrap(err, op)
			}
		}
	}
	if won {
		return true, nil
	}
	return false, s.mustExist(ctx, op, (*refreshTokenRow)(nil), appID, id)
}

// ListActiveSessions returns the user's sessions live at now, most recently
// used first; a session never refreshed was last used when it was created.
func (s *Store) ListActiveSessions(ctx context.Context, appID, userID string, now time.Time) ([]identity.Session, error) {
	var rows []sessionRow
	err := s.idb.NewSelect().Model(&rows).
		Where("app_id = ? AND user_id = ?", appID, userID).
		Where("revoked_at IS NULL AND expires_at > ?", now.UTC()).
		OrderExpr("COALESCE(last_used_at, created_at) DESC, id DESC").
		Scan(ctx)
	if err != nil {
		return nil, wrap(err, "store.ListActiveSessions")
	}
	out := make([]identity.Session, len(rows))
	for i, r := range rows {
		out[i] = r.session()
	}
	return out, nil
}

// RotateRefreshToken spends the token oldID of appID and stores next, its
// successor, with the audit event ev, as one change; the session's last
// use becomes next.CreatedAt. The token is spent if it is unrotated (it is
// marked rotated at next.CreatedAt) or was rotated at or after cutoff (a
// client's concurrent retry within the grace, which gets a sibling). When
// it was rotated before cutoff (reuse) RotateRefreshToken stores nothing
// and reports false. NotFound when there is no such token.
//
// On Postgres this is one prepared statement (rotateQuery), with no
// transaction around it, which concurrent calls share (batch.go). SQLite
// has no data-modifying WITH: it runs the same steps in one transaction,
// which takes the write lock when it begins.
func (s *Store) RotateRefreshToken(ctx context.Context, appID, oldID string, cutoff time.Time, next identity.RefreshToken, ev identity.AuditEvent) (bool, error) {
	const op = "store.RotateRefreshToken"
	ctx, cancel := s.hot(ctx) // prepared.go
	defer cancel()
	rt := toRefreshTokenRow(next)
	ae, err := toAuditEventRow(ev)
	if err != nil {
		return false, apperr.Wrap(err, apperr.Internal, op)
	}
	if rt.AppID != appID || ae.AppID != appID {
		return false, apperr.Wrap(errors.New("token or event of another app"), apperr.Internal, op)
	}
	cutoff = cutoff.UTC()
	if s.dialect != Postgres {
		return s.rotateRefreshTokenTx(ctx, appID, oldID, cutoff, rt, ae)
	}
	r := rotation{appID: appID, oldID: oldID, cutoff: cutoff, token: rt, event: ae}
	var won bool
	if s.inTx || s.rotations == nil {
		var out []bool
		if out, err = s.rotate(ctx, []rotation{r}); err == nil {
			won = out[0]
		}
	} else {
		won, err = s.rotations.do(ctx, r)
	}
	if err != nil {
		return false, wrap(err, op)
	}
	if won {
		return true, nil
	}
	return false, s.mustExist(ctx, op, (*refreshTokenRow)(nil), appID, oldID)
}

// rotation is one RotateRefreshToken on Postgres.
type rotation struct {
	appID, oldID string
	cutoff       time.Time
	token        refreshTokenRow
	event        auditEventRow
}

// key is the token r spends: two rotations of one token never share a
// statement (batch.go), which could not tell the later from the earlier.
func (r rotation) key() string { return r.appID + "\x00" + r.oldID }

// rotationColumns are the types of a rotation's row in rotateQuery's VALUES.
var rotationColumns = []string{"integer", "text", "text", "timestamptz", "timestamptz",
	"text", "text", "text", "text", "timestamptz",
	"text", "text", "text", "text", "text", "text", "text", "jsonb", "timestamptz"}

// args are r's values in rotationColumns' order, n its place in the batch.
func (r rotation) args(n int) []any {
	var parent, details *string // NULL for empty, as the row types' nullzero write them
	if r.token.ParentID != "" {
		parent = &r.token.ParentID
	}
	if r.event.Details != "" {
		details = &r.event.Details
	}
	t, e := r.token, r.event
	return []any{int64(n), r.appID, r.oldID, t.CreatedAt, r.cutoff,
		t.ID, t.SessionID, parent, t.Hash, t.ExpiresAt,
		e.ID, e.Action, e.Outcome, e.ActorID, e.SubjectID, e.IP, e.Reason, details, e.OccurredAt}
}

// rotateQuery is RotateRefreshToken for a batch of n rotations, each a row
// of VALUES (see refreshSessionQuery for why not a function's rows): for
// each, the mark, the session's last use and both inserts are
// data-modifying WITHs that run only when its mark matched, and the
// mark's WHERE is rechecked on the latest row version when another
// refresh holds the row, so racing calls settle on the row lock as the
// grace says. Its rotations spend different tokens (rotation.key). It
// returns the n of each rotation that won.
func rotateQuery(n int) string {
	return `WITH input (n, app_id, old_id, now, cutoff, id, session_id, parent_id, hash, expires_at,
			event_id, action, outcome, actor_id, subject_id, ip, reason, details, occurred_at) AS (
		VALUES ` + valuesRows(n, rotationColumns...) + `
	), spent AS (
		UPDATE refresh_tokens AS t SET rotated_at = COALESCE(t.rotated_at, i.now)
		FROM input AS i
		WHERE t.app_id = i.app_id AND t.id = i.old_id AND (t.rotated_at IS NULL OR t.rotated_at >= i.cutoff)
		RETURNING t.app_id, t.id, t.session_id
	), won AS (
		SELECT i.*, spent.session_id AS spent_session_id FROM input AS i JOIN spent ON spent.app_id = i.app_id AND spent.id = i.old_id
	), used AS (
		UPDATE sessions AS s SET last_used_at = won.now FROM won WHERE s.app_id = won.app_id AND s.id = won.spent_session_id
	), issued AS (
		INSERT INTO refresh_tokens (id, app_id, session_id, parent_id, hash, created_at, expires_at)
		SELECT id, app_id, session_id, parent_id, hash, now, expires_at FROM won
	), audited AS (
		INSERT INTO audit_events (id, app_id, action, outcome, actor_id, subject_id, ip, reason, details, occurred_at)
		SELECT event_id, app_id, action, outcome, actor_id, subject_id, ip, reason, details, occurred_at FROM won
	)
	SELECT n FROM won`
}

// rotate runs rotations as one prepared statement (rotateQuery) and
// reports which won.
func (s *Store) rotate(ctx context.Context, rs []rotation) ([]bool, error) {
	ctx, cancel := s.hot(ctx) // prepared.go
	defer cancel()
	args := make([]any, 0, len(rotationColumns)*len(rs))
	keys := make(map[string]bool, len(rs))
	for i, r := range rs {
		if keys[r.key()] {
			return nil, fmt.Errorf("two rotations of token %s in one statement", r.oldID)
		}
		keys[r.key()] = true
		args = append(args, r.args(i)...)
	}
	var won []int
	if err := s.idb.NewRaw(rotateQueries[len(rs)]).Conn(s.bound(args...)).Scan(ctx, &won); err != nil {
		return nil, err
	}
	out := make([]bool, len(rs))
	for _, n := range won {
		out[n] = true
	}
	return out, nil
}

// valuesRows is n rows of $n parameters, one per column, each cast to its
// column's type: "($1::integer, $2::text), ($3::integer, $4::text)".
func valuesRows(n int, types ...string) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, t := range types {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d::%s", i*len(types)+j+1, t)
		}
		b.WriteByte(')')
	}
	return b.String()
}

// errRotatedBefore rolls back rotateRefreshTokenTx when the token was spent
// before the grace began.
var errRotatedBefore = errors.New("refresh token rotated before the cutoff")

// rotateRefreshTokenTx is RotateRefreshToken in a transaction, for SQLite.
func (s *Store) rotateRefreshTokenTx(ctx context.Context, appID, oldID string, cutoff time.Time, rt refreshTokenRow, ae auditEventRow) (bool, error) {
	const op = "store.RotateRefreshToken"
	err := s.InTx(ctx, func(its identity.Store) error {
		tx := its.(*Store)
		won, err := tx.MarkRefreshTokenRotated(ctx, appID, oldID, rt.CreatedAt)
		if err != nil {
			return err
		}
		if !won {
			var old refreshTokenRow
			if err := tx.idb.NewSelect().Model(&old).Column("rotated_at").Where("app_id = ? AND id = ?", appID, oldID).Scan(ctx); err != nil {
				return wrap(err, op)
			}
			if old.RotatedAt.Before(cutoff) {
				return errRotatedBefore
			}
			_, err := tx.idb.NewUpdate().Model((*sessionRow)(nil)).
				Set("last_used_at = ?", rt.CreatedAt).
				Where("app_id = ? AND id = ?", appID, rt.SessionID).
				Exec(ctx)
			if err != nil {
				return wrap(err, op)
			}
		}
		if _, err := tx.idb.NewInsert().Model(&rt).Exec(ctx); err != nil {
			return wrap(err, op)
		}
		_, err = tx.idb.NewInsert().Model(&ae).Exec(ctx)
		return wrap(err, op)
	})
	if errors.Is(err, errRotatedBefore) {
		return false, nil
	}
	return err == nil, err
}

// OpenSession records a sign-in as one change: the user's login success
// at loginAt (RecordLoginSuccess: failures and lock cleared), the new
// session, its first refresh token and the audit event ev. On Postgres it
// is one statement of data-modifying WITHs, with no transaction of its own
// (inside one, it joins it): the foreign keys, checked at the statement's
// end, fail it whole when the user is gone. It is prepared (prepared.go).
// SQLite runs the four writes in a transaction. NotFound when the app or
// user does not exist.
func (s *Store) OpenSession(ctx context.Context, loginAt time.Time, sess identity.Session, first identity.RefreshToken, ev identity.AuditEvent) error {
	const op = "store.OpenSession"
	ctx, cancel := s.hot(ctx) // prepared.go
	defer cancel()
	srow, rt := toSessionRow(sess), toRefreshTokenRow(first)
	ae, err := toAuditEventRow(ev)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, op)
	}
	if rt.SessionID != srow.ID || rt.AppID != srow.AppID || ae.AppID != srow.AppID {
		return apperr.Wrap(errors.New("token or event of another session or app"), apperr.Internal, op)
	}
	if s.dialect != Postgres {
		return s.InTx(ctx, func(its identity.Store) error {
			tx := its.(*Store)
			if err := tx.RecordLoginSuccess(ctx, sess.AppID, sess.UserID, loginAt); err != nil {
				return err
			}
			for _, row := range []any{&srow, &rt, &ae} {
				if _, err := tx.idb.NewInsert().Model(row).Exec(ctx); err != nil {
					return wrap(err, op)
				}
			}
			return nil
		})
	}
	var (
		n               int
		parent, details *string // NULL for empty, as the row types' nullzero write them (pgdriver sends a zero time as NULL itself)
	)
	if rt.ParentID != "" {
		parent = &rt.ParentID
	}
	if ae.Details != "" {
		details = &ae.Details
	}
	// Prepared: every sign-in runs it (prepared.go).
	err = s.idb.NewRaw(`WITH signed_in AS (
			UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $1::timestamptz
			WHERE app_id = $2 AND id = $3 RETURNING id
		), opened AS (
			INSERT INTO sessions (id, app_id, user_id, created_at, expires_at, revoked_at, revoke_reason, ip, user_agent, method, last_used_at)
			VALUES ($4, $2, $3, $5::timestamptz, $6::timestamptz, $7::timestamptz, $8, $9, $10, $11, $12::timestamptz)
		), issued AS (
			INSERT INTO refresh_tokens (id, app_id, session_id, parent_id, hash, created_at, expires_at)
			VALUES ($13, $2, $4, $14, $15, $16::timestamptz, $17::timestamptz)
		), audited AS (
			INSERT INTO audit_events (id, app_id, action, outcome, actor_id, subject_id, ip, reason, details, occurred_at)
			VALUES ($18, $2, $19, $20, $21, $22, $23, $24, $25::jsonb, $26::timestamptz)
		)
		SELECT count(*) FROM signed_in`).
		Conn(s.bound(loginAt.UTC(), sess.AppID, sess.UserID,
			srow.ID, srow.CreatedAt, srow.ExpiresAt, srow.RevokedAt, srow.RevokeReason, srow.IP, srow.UserAgent, srow.Method, srow.LastUsedAt,
			rt.ID, parent, rt.Hash, rt.CreatedAt, rt.ExpiresAt,
			ae.ID, ae.Action, ae.Outcome, ae.ActorID, ae.SubjectID, ae.IP, ae.Reason, details, ae.OccurredAt)).
		Scan(ctx, &n)
	if err != nil {
		return wrap(err, op)
	}
	if n == 0 { // the foreign keys fail the statement first; this is their backstop
		return notFound(op)
	}
	return nil
}
