package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

type appRow struct {
	bun.BaseModel `bun:"table:apps,alias:app"`

	ID        string    `bun:"id,pk"`
	Name      string    `bun:"name"`
	Settings  string    `bun:"settings"` // identity.AppSettings as JSON
	CreatedAt time.Time `bun:"created_at,nullzero"`
	UpdatedAt time.Time `bun:"updated_at,nullzero"`

	// CosyncJWTTokenHash mirrors Settings.CosyncJWT.AppTokenHash for lookup.
	CosyncJWTTokenHash string `bun:"cosyncjwt_token_hash,nullzero"`
}

func toAppRow(a identity.App) (appRow, error) {
	settings, err := json.Marshal(a.Settings)
	if err != nil {
		return appRow{}, err
	}
	return appRow{
		ID:        a.ID,
		Name:      a.Name,
		Settings:  string(settings),
		CreatedAt: utc(a.CreatedAt),
		UpdatedAt: utc(a.UpdatedAt),

		CosyncJWTTokenHash: a.Settings.CosyncJWT.AppTokenHash,
	}, nil
}

func (r appRow) app() (identity.App, error) {
	a := identity.App{
		ID:        r.ID,
		Name:      r.Name,
		CreatedAt: utc(r.CreatedAt),
		UpdatedAt: utc(r.UpdatedAt),
	}
	if err := json.Unmarshal([]byte(r.Settings), &a.Settings); err != nil {
		return identity.App{}, err
	}
	return a, nil
}

type memberRow struct {
	bun.BaseModel `bun:"table:app_members,alias:m"`

	AppID       string    `bun:"app_id,pk"`
	DeveloperID string    `bun:"developer_id,pk"`
	Role        string    `bun:"role"`
	CreatedAt   time.Time `bun:"created_at,nullzero"`
}

func (r memberRow) member() identity.Member {
	return identity.Member{
		AppID:       r.AppID,
		DeveloperID: r.DeveloperID,
		Role:        identity.Role(r.Role),
		CreatedAt:   utc(r.CreatedAt),
	}
}

// memberAppRow is an apps row joined with the caller's role.
type memberAppRow struct {
	appRow `bun:",extend"`
	Role   string `bun:"role"`
}

// CreateApp inserts a. Exists when the id is taken.
func (s *Store) CreateApp(ctx context.Context, a identity.App) error {
	const op = "store.CreateApp"
	row, err := toAppRow(a)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, op)
	}
	_, err = s.idb.NewInsert().Model(&row).Exec(ctx)
	return wrap(err, op)
}

// GetApp returns the app id.
//
// Outside a transaction it is served from memory when it can (cache.go):
// every Auth call reads its app, and apps change rarely.
func (s *Store) GetApp(ctx context.Context, id string) (identity.App, error) {
	const op = "store.GetApp"
	if !s.inTx {
		return s.getCachedApp(ctx, id)
	}
	var row appRow
	if err := s.idb.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx); err != nil {
		return identity.App{}, wrap(err, op)
	}
	a, err := row.app()
	if err != nil {
		return identity.App{}, apperr.Wrap(err, apperr.Internal, op)
	}
	return a, nil
}

// GetAppForUpdate reads an app and holds it until the transaction ends:
// Postgres locks the row (SELECT … FOR UPDATE); a SQLite transaction holds
// the database's write lock from its start (_txlock=immediate), so it holds
// every row. Outside InTx it is GetApp.
func (s *Store) GetAppForUpdate(ctx context.Context, id string) (identity.App, error) {
	const op = "store.GetAppForUpdate"
	var row appRow
	q := s.idb.NewSelect().Model(&row).Where("id = ?", id)
	if s.dialect == Postgres {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return identity.App{}, wrap(err, op)
	}
	a, err := row.app()
	if err != nil {
		return identity.App{}, apperr.Wrap(err, apperr.Internal, op)
	}
	return a, nil
}

// UpdateApp writes the name, settings and updated-at time of a.
func (s *Store) UpdateApp(ctx context.Context, a identity.App) error {
	const op = "store.UpdateApp"
	row, err := toAppRow(a)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, op)
	}
	res, err := s.idb.NewUpdate().Model(&row).
		Column("name", "settings", "updated_at", "cosyncjwt_token_hash").
		WherePK().
		Exec(ctx)
	if err := oneRow(res, err, op); err != nil {
		return err
	}
	return s.announce(ctx, ChangeApp, a.ID)
}

// DeleteApp removes the app; the foreign keys cascade to every row scoped
// to it. NotFound when there is no such app.
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	q := s.idb.NewDelete().Model((*appRow)(nil)).Where("id = ?", id)
	if s.dialect == Postgres {
		// On Postgres audit events have no foreign key to their app (it made
		// every refresh lock the app's row: migration 20261207000006), so
		// they go in the same statement; SQLite's key cascades.
		q = q.With("audit", s.idb.NewDelete().Model((*auditEventRow)(nil)).Where("app_id = ?", id))
	}
	res, err := q.Exec(ctx)
	if err := oneRow(res, err, "store.DeleteApp"); err != nil {
		return err
	}
	if err := s.announce(ctx, ChangeKeys, id); err != nil {
		return err
	}
	return s.announce(ctx, ChangeApp, id)
}

// ListMemberApps lists up to limit apps developerID is a member of, with
// its role, ordered by app id and starting after the id after (empty: from
// the start). A limit of zero or less lists them all.
func (s *Store) ListMemberApps(ctx context.Context, developerID, after string, limit int) ([]identity.MemberApp, error) {
	const op = "store.ListMemberApps"
	var rows []memberAppRow
	q := s.idb.NewSelect().Model(&rows).
		ColumnExpr("app.*").
		ColumnExpr("m.role").
		Join("JOIN app_members AS m ON m.app_id = app.id").
		Where("m.developer_id = ?", developerID).
		OrderExpr("app.id ASC")
	if after != "" {
		q = q.Where("app.id > ?", after)
	}
	if limit > 0 {
		q = q.Limit(limit)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, wrap(err, op)
	}
	apps := make([]identity.MemberApp, len(rows))
	for i, r := range rows {
		a, err := r.app()
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Internal, op)
		}
		apps[i] = identity.MemberApp{App: a, Role: identity.Role(r.Role)}
	}
	return apps, nil
}

// PutMember makes m.DeveloperID a member of m.AppID with m.Role, or changes
// the role of an existing member (keeping its CreatedAt). NotFound when the
// app does not exist.
func (s *Store) PutMember(ctx context.Context, m identity.Member) error {
	row := memberRow{
		AppID:       m.AppID,
		DeveloperID: m.DeveloperID,
		Role:        string(m.Role),
		CreatedAt:   utc(m.CreatedAt),
	}
	_, err := s.idb.NewInsert().Model(&row).
		On("CONFLICT (app_id, developer_id) DO UPDATE").
		Set("role = EXCLUDED.role").
		Exec(ctx)
	return wrap(err, "store.PutMember")
}

// GetMember returns developerID's membership of appID.
func (s *Store) GetMember(ctx context.Context, appID, developerID string) (identity.Member, error) {
	var row memberRow
	err := s.idb.NewSelect().Model(&row).
		Where("app_id = ? AND developer_id = ?", appID, developerID).
		Scan(ctx)
	if err != nil {
		return identity.Member{}, wrap(err, "store.GetMember")
	}
	return row.member(), nil
}
