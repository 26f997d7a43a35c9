package console

import (
	"context"
	"errors"
	"slices"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/templates"
)

// TemplateView is one template as a developer sees it.
type TemplateView struct {
	templates.Template
	Customized bool
}

// ListTemplates lists every template kind of one locale: the app's own
// version where it has one, the default otherwise.
func (s *Service) ListTemplates(ctx context.Context, d identity.Developer, appID, locale string) ([]TemplateView, error) {
	m, err := s.member(ctx, d, appID, identity.RoleViewer)
	if err != nil {
		return nil, err
	}
	if locale, err = identity.PickLocale(m.App, locale); err != nil {
		return nil, err
	}
	var out []TemplateView
	for _, k := range templates.Kinds() {
		t, custom, err := identity.PickTemplate(ctx, s.store, m.App, locale, k)
		if err != nil {
			return nil, err
		}
		t.Kind, t.Locale = k, locale
		out = append(out, TemplateView{Template: t, Customized: custom})
	}
	return out, nil
}

// UpdateTemplate stores a developer's version of a template after checking
// that it renders; an empty subject, HTML and text restore the default.
func (s *Service) UpdateTemplate(ctx context.Context, d identity.Developer, appID string, t templates.Template) (TemplateView, error) {
	m, err := s.member(ctx, d, appID, identity.RoleAdmin)
	if err != nil {
		return TemplateView{}, err
	}
	if !slices.Contains(m.Settings.Locales, t.Locale) {
		return TemplateView{}, apperr.Fields(apperr.ReasonLocaleUnsupported, []apperr.Violation{{Field: "template.locale", Description: "is not one of this application's locales"}})
	}
	restore := t.Subject == "" && t.HTML == "" && t.Text == ""
	if !restore {
		if err := templates.Check(t); err != nil {
			return TemplateView{}, prefixFields(err, "template.")
		}
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		var err error
		if restore {
			err = tx.DeleteTemplate(ctx, appID, string(t.Kind), t.Locale)
		} else {
			err = tx.PutTemplate(ctx, identity.EmailTemplate{AppID: appID, Kind: string(t.Kind), Locale: t.Locale, Subject: t.Subject, HTML: t.HTML, Text: t.Text, UpdatedAt: s.clock()})
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, identity.AuditEvent{AppID: appID, Action: "template.update", ActorID: d.ActorID(), SubjectID: string(t.Kind) + ":" + t.Locale, IP: d.IP})
	})
	if err != nil {
		return TemplateView{}, err
	}
	cur, custom, err := identity.PickTemplate(ctx, s.store, m.App, t.Locale, t.Kind)
	cur.Kind, cur.Locale = t.Kind, t.Locale
	return TemplateView{Template: cur, Customized: custom}, err
}

// PreviewTemplate renders t (or, with no body, the current template of its
// kind and locale) with sample values.
func (s *Service) PreviewTemplate(ctx context.Context, d identity.Developer, appID string, t templates.Template) (templates.Rendered, error) {
	m, err := s.member(ctx, d, appID, identity.RoleViewer)
	if err != nil {
		return templates.Rendered{}, err
	}
	if t.Subject == "" && t.HTML == "" && t.Text == "" {
		if t, _, err = identity.PickTemplate(ctx, s.store, m.App, t.Locale, t.Kind); err != nil {
			return templates.Rendered{}, err
		}
	}
	r, err := templates.Render(t, templates.SampleVars(m.Name))
	if err != nil {
		return templates.Rendered{}, prefixFields(err, "template.")
	}
	return r, nil
}

// Locales returns the locales with built-in templates and the app's own.
func (s *Service) Locales(ctx context.Context, d identity.Developer, appID string) (available, enabled []string, err error) {
	m, err := s.member(ctx, d, appID, identity.RoleViewer)
	if err != nil {
		return nil, nil, err
	}
	return templates.DefaultLocales(), m.Settings.Locales, nil
}

// prefixFields puts prefix before the field names of an Invalid error.
func prefixFields(err error, prefix string) error {
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind() != apperr.Invalid {
		return err
	}
	vs := e.Violations()
	for i := range vs {
		vs[i].Field = prefix + vs[i].Field
	}
	c := e.WithViolations(vs...)
	if c.Reason() == "" {
		c = c.WithReason(apperr.ReasonInvalidArgument)
	}
	return c
}
