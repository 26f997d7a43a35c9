package identity

import (
	"context"
	"fmt"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/templates"
)

// template picks what to render for kind in locale: the app's own version
// in that locale, else the built-in one in that locale, else in English.
func (s *Service) template(ctx context.Context, a App, locale string, kind templates.Kind) (templates.Template, bool, error) {
	custom, err := s.store.GetTemplate(ctx, a.ID, string(kind), locale)
	switch {
	case err == nil:
		return templates.Template{Kind: kind, Locale: locale, Subject: custom.Subject, HTML: custom.HTML, Text: custom.Text}, true, nil
	case !apperr.Is(err, apperr.NotFound):
		return templates.Template{}, false, err
	}
	if t, ok := templates.BuiltIn(kind, locale); ok {
		return t, false, nil
	}
	return templates.Template{}, false, apperr.Wrap(fmt.Errorf("no template %s", kind), apperr.Internal, "identity.template")
}

// render renders kind for a in locale with vars. An app's own template
// that fails to render (one saved before a sandbox rule it breaks, or a
// value no check foresaw) never fails the user's request: the built-in
// template is sent instead, and the failure is logged for the developer.
func (s *Service) render(ctx context.Context, a App, locale string, kind templates.Kind, vars templates.Vars) (templates.Rendered, error) {
	t, custom, err := s.template(ctx, a, locale, kind)
	if err != nil {
		return templates.Rendered{}, err
	}
	r, err := templates.RenderContext(ctx, t, vars)
	if err != nil && custom && ctx.Err() == nil {
		s.log.WarnContext(ctx, "an application's template failed; sending the built-in one", "app", a.ID, "kind", kind, "locale", locale, "err", err)
		if d, ok := templates.BuiltIn(kind, locale); ok {
			t = d
		}
		r, err = templates.RenderContext(ctx, t, vars)
	}
	if err != nil {
		return templates.Rendered{}, apperr.Wrap(err, apperr.Internal, "identity.render")
	}
	return r, nil
}
