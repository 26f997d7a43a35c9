package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/identity"
)

type templateRow struct {
	bun.BaseModel `bun:"table:email_templates,alias:et"`

	AppID     string    `bun:"app_id,pk"`
	Kind      string    `bun:"kind,pk"`
	Locale    string    `bun:"locale,pk"`
	Subject   string    `bun:"subject"`
	HTML      string    `bun:"html"`
	Text      string    `bun:"text"`
	UpdatedAt time.Time `bun:"updated_at"`
}

func (r templateRow) template() identity.EmailTemplate {
	return identity.EmailTemplate{AppID: r.AppID, Kind: r.Kind, Locale: r.Locale, Subject: r.Subject, HTML: r.HTML, Text: r.Text, UpdatedAt: utc(r.UpdatedAt)}
}

// GetTemplate returns an app's version of a template.
func (s *Store) GetTemplate(ctx context.Context, appID, kind, locale string) (identity.EmailTemplate, error) {
	var row templateRow
	err := s.idb.NewSelect().Model(&row).Where("app_id = ? AND kind = ? AND locale = ?", appID, kind, locale).Scan(ctx)
	if err != nil {
		return identity.EmailTemplate{}, wrap(err, "store.GetTemplate")
	}
	return row.template(), nil
}

// PutTemplate inserts or replaces an app's version of a template.
func (s *Store) PutTemplate(ctx context.Context, t identity.EmailTemplate) error {
	row := templateRow{AppID: t.AppID, Kind: t.Kind, Locale: t.Locale, Subject: t.Subject, HTML: t.HTML, Text: t.Text, UpdatedAt: utc(t.UpdatedAt)}
	_, err := s.idb.NewInsert().Model(&row).
		On("CONFLICT (app_id, kind, locale) DO UPDATE").
		Set("subject = EXCLUDED.subject, html = EXCLUDED.html, text = EXCLUDED.text, updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	return wrap(err, "store.PutTemplate")
}

// DeleteTemplate removes an app's version, restoring the default.
func (s *Store) DeleteTemplate(ctx context.Context, appID, kind, locale string) error {
	_, err := s.idb.NewDelete().Model((*templateRow)(nil)).
		Where("app_id = ? AND kind = ? AND locale = ?", appID, kind, locale).Exec(ctx)
	return wrap(err, "store.DeleteTemplate")
}

// ListTemplates lists an app's versions in one locale (all locales for "").
func (s *Store) ListTemplates(ctx context.Context, appID, locale string) ([]identity.EmailTemplate, error) {
	var rows []templateRow
	q := s.idb.NewSelect().Model(&rows).Where("app_id = ?", appID).OrderExpr("locale, kind")
	if locale != "" {
		q = q.Where("locale = ?", locale)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, wrap(err, "store.ListTemplates")
	}
	out := make([]identity.EmailTemplate, len(rows))
	for i, r := range rows {
		out[i] = r.template()
	}
	return out, nil
}
