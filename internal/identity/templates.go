package identity

import (
	"context"
	"fmt"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/templates"
)

// TemplateGetter reads an app's own version of a template (NotFound: it
// has none). identity's and console's stores both satisfy it.
type TemplateGetter interface {
	GetTemplate(ctx context.Context, appID, kind, locale string) (EmailTemplate, error)
}

// PickTemplate is what to render for kind in locale at app a, for both
// sending and the developers' views: the app's own version in that locale
// (custom true), else the built-in one in that locale, else in English.
func PickTemplate(ctx context.Context, st TemplateGetter, a App, locale string, kind templates.Kind) (t templates.Template, custom bool, err error) {
	own, err := st.GetTemplate(ctx, a.ID, string(kind), locale)
	switch {
	case err == nil:
		return templates.Template{Kind: kind, Locale: locale, Subject: own.Subject, HTML: own.HTML, Text: own.Text}, true, nil
	case !apperr.Is(err, apperr.NotFound):
		return templates.Template{}, false, err
	}
	if t, ok := templates.BuiltIn(kind, locale); ok {
		return t, false, nil
	}
	return templates.Template{}, false, apperr.Wrap(fmt.Errorf("no template %s", kind), apperr.Internal, "identity.PickTemplate")
}

// render renders kind for a in locale with vars. An app's own template
// that fails to render (one saved before a sandbox rule it breaks, or a
// value no check foresaw) never fails the user's request: the built-in
// template is sent instead, and the failure is logged for the developer.
func (s *Service) render(ctx context.Context, a App, locale string, kind templates.Kind, vars templates.Vars) (templates.Rendered, error) {
	t, custom, err := PickTemplate(ctx, s.store, a, locale, kind)
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
