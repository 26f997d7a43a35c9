// Package templates holds the per-locale message templates of an
// application ([Template]) with their built-in defaults ([Default]), and
// renders them in a sandbox of bounded time, memory and output ([Render]). It is pure: it
// sends nothing and imports no delivery library, so the domain can use it.
package templates

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// Kind names one of an application's message templates.
type Kind string

// The template kinds, matching admin.v1.TemplateKind.
const (
	KindSignupCode    Kind = "signup_code"    // code to confirm an email at signup
	KindSignupLink    Kind = "signup_link"    // link (and code) to confirm an email at signup
	KindLinkLanding   Kind = "link_landing"   // the web page a signup link opens; Subject is its title
	KindWelcome       Kind = "welcome"        // after signup completes
	KindPasswordReset Kind = "password_reset" // code to reset a password
	KindInvite        Kind = "invite"         // invitation code and link
	KindTOTPQR        Kind = "totp_qr"        // QR code and key to set up an authenticator app
	KindSMS           Kind = "sms"            // text message with a code; Text only
	KindAccountExists Kind = "account_exists" // to the owner when someone signs up with their address
)

var kinds = []Kind{
	KindSignupCode, KindSignupLink, KindLinkLanding, KindWelcome, KindPasswordReset,
	KindInvite, KindTOTPQR, KindSMS, KindAccountExists,
}

// Kinds returns every template kind, in a stable order. The slice is the
// caller's.
func Kinds() []Kind { return append([]Kind(nil), kinds...) }

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, x := range kinds {
		if k == x {
			return true
		}
	}
	return false
}

// Template is one template source in one locale. Subject and Text are
// text/template, HTML is html/template, so values are escaped for HTML and
// links with unsafe schemes are neutralized. The macros are the fields of
// Vars: {{.AppName}} {{.Handle}} {{.Code}} {{.Link}} {{.ExpiresIn}}.
// {{range}} and {{template}} are not allowed: with no lists to loop over they
// only serve to make rendering expensive.
type Template struct {
	Kind    Kind
	Locale  string
	Subject string
	HTML    string
	Text    string
}

// Vars are the values a template can use. A flow fills those its kind needs
// and leaves the rest empty.
type Vars struct {
	AppName   string // the application's display name
	Handle    string // the recipient's email or user name
	Code      string // one-time code; for KindTOTPQR the key to type by hand
	Link      string // signup or invite link; for KindTOTPQR the https URL of the QR image
	ExpiresIn string // how long the code or link stays valid, in words: "15 minutes"
}

// SampleVars returns the values Check renders with and a template preview
// can show. An empty appName means "Example App".
func SampleVars(appName string) Vars {
	if appName == "" {
		appName = "Example App"
	}
	return Vars{
		AppName:   appName,
		Handle:    "jane@example.com",
		Code:      "123456",
		Link:      "https://auth.example.com/link?token=sample",
		ExpiresIn: "15 minutes",
	}
}

// Rendered is a template filled with Vars. Subject is a single line.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

// Render fills t with v in the sandbox (see sandbox.go): bounded in time,
// in the values it may build and in its output. A part that does not parse,
// uses a macro Vars does not have, uses {{range}}, {{template}} or a function
// the sandbox does not offer, builds too much or runs too long gives an
// apperr Invalid error whose violation field is the part: "subject", "html"
// or "text". Empty parts render empty. Render is safe for concurrent use.
func Render(t Template, v Vars) (Rendered, error) {
	return RenderContext(context.Background(), t, v)
}

// RenderContext is Render that also stops when ctx is done; it then returns
// ctx's error (not an Invalid one: the template is not at fault).
func RenderContext(ctx context.Context, t Template, v Vars) (Rendered, error) {
	const op = "templates.Render"
	return render(ctx, renderTimeout, op, t, v)
}

func render(ctx context.Context, timeout time.Duration, op string, t Template, v Vars) (Rendered, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errTooSlow)
	defer cancel()
	s := &sandbox{ctx: ctx}
	if err := s.step(); err != nil {
		return Rendered{}, s.partError(op, "subject", err)
	}
	var r Rendered
	var err error
	if r.Subject, err = s.renderText("subject", t.Subject, v); err != nil {
		return Rendered{}, s.partError(op, "subject", err)
	}
	// One line, so it can go into a mail header and an HTML <title>.
	r.Subject = strings.Join(strings.Fields(r.Subject), " ")
	if r.Text, err = s.renderText("text", t.Text, v); err != nil {
		return Rendered{}, s.partError(op, "text", err)
	}
	if r.HTML, err = s.renderHTML("html", t.HTML, v); err != nil {
		return Rendered{}, s.partError(op, "html", err)
	}
	return r, nil
}

// partError is an Invalid error naming the part, unless the caller's
// context ended the render.
func (s *sandbox) partError(op, part string, err error) error {
	if cerr := s.step(); cerr != nil && !errors.Is(cerr, errTooSlow) {
		return fmt.Errorf("%s: %w", op, cerr)
	}
	return apperr.Field(part, err.Error()).With(op, nil)
}

// Check reports whether t is fit to save: its kind is known, it has the parts
// its kind needs (a subject and a text or HTML body for mail, text for
// KindSMS, HTML for KindLinkLanding), and each part renders in the sandbox
// with SampleVars and with what sends of its kind carry (checkVars), so a
// saved template does not fail at send time. Errors are apperr Invalid with
// the offending part as the violation field.
func Check(t Template) error {
	const op = "templates.Check"
	if !t.Kind.Valid() {
		return apperr.Field("kind", "unknown template kind").With(op, nil)
	}
	var vs []apperr.Violation
	need := func(field, part string) {
		if strings.TrimSpace(part) == "" {
			vs = append(vs, apperr.Violation{Field: field, Description: "required"})
		}
	}
	switch t.Kind {
	case KindSMS:
		need("text", t.Text)
	case KindLinkLanding:
		need("html", t.HTML)
	default:
		need("subject", t.Subject)
		if strings.TrimSpace(t.Text) == "" && strings.TrimSpace(t.HTML) == "" {
			vs = append(vs, apperr.Violation{Field: "text", Description: "text or html required"})
		}
	}
	if err := apperr.Fields(apperr.ReasonInvalidArgument, vs); err != nil {
		var e *apperr.Error
		if errors.As(err, &e) {
			return e.With(op, nil)
		}
		return err
	}
	for i, v := range checkVars(t.Kind) {
		_, err := render(context.Background(), renderTimeout, op, t, v)
		var e *apperr.Error
		if i > 0 && errors.As(err, &e) && e.Kind() == apperr.Invalid {
			// Say why the preview may render what the save refuses.
			vs := e.Violations()
			for j := range vs {
				vs[j].Description += " (with the values a send of this kind carries)"
			}
			return apperr.Fields(apperr.ReasonInvalidArgument, vs)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sendFields lists, per kind, the Vars a send fills; the others are empty
// when it renders. Optional ones may be empty too (an invitation made
// without a link).
var sendFields = map[Kind]struct{ code, link, expires, optionalLink bool }{
	KindSignupCode:    {code: true, expires: true},
	KindSignupLink:    {code: true, link: true, expires: true},
	KindLinkLanding:   {},
	KindWelcome:       {},
	KindPasswordReset: {code: true, expires: true},
	KindInvite:        {code: true, link: true, expires: true, optionalLink: true},
	KindTOTPQR:        {code: true, link: true, expires: true},
	KindSMS:           {code: true, expires: true},
	KindAccountExists: {},
}

// checkVars are the values Check renders a template of kind with, so that
// a template saved now does not fail when it is sent: the preview's sample
// values, and what sends of that kind carry, both short and at the longest
// a send can produce (with characters that escaping expands), with the
// fields the kind leaves empty empty.
func checkVars(kind Kind) []Vars {
	long := Vars{
		AppName:   strings.Repeat(`"<𝕏`, 128/3+1), // 128 characters is the longest app name
		Handle:    strings.Repeat(`"`, 254),       // the longest email address
		Code:      strings.Repeat("A", 64),        // a TOTP key is 32
		Link:      "https://auth.example.com/" + strings.Repeat("%22", 2048/3),
		ExpiresIn: "1000 minutes",
	}
	out := []Vars{SampleVars("")}
	f := sendFields[kind]
	for _, v := range []Vars{SampleVars(""), long} {
		if !f.code {
			v.Code = ""
		}
		if !f.link {
			v.Link = ""
		}
		if !f.expires {
			v.ExpiresIn = ""
		}
		out = append(out, v)
		if f.optionalLink {
			v.Link = ""
			out = append(out, v)
		}
	}
	return out
}
