// Package templates holds the per-locale message templates of an
// application ([Template]) with their built-in defaults ([Default]), and
// renders them in a sandbox of bounded output ([Render]). It is pure: it
// sends nothing and imports no delivery library, so the domain can use it.
package templates

import (
	"errors"
	htmltemplate "html/template"
	"strings"
	"text/template"
	"text/template/parse"

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

// maxOutput caps each rendered part, so that a template cannot make the
// server build huge strings (printf widths go up to a million).
const maxOutput = 1 << 20

var errTooLarge = errors.New("rendered output larger than 1 MiB")

// Render fills t with v. A part that does not parse, uses a macro Vars does
// not have, or uses {{range}} or {{template}} gives an apperr Invalid error
// whose violation field is the part: "subject", "html" or "text". Empty parts
// render empty. Render is safe for concurrent use.
func Render(t Template, v Vars) (Rendered, error) {
	const op = "templates.Render"
	var r Rendered
	var err error
	if r.Subject, err = renderText("subject", t.Subject, v); err != nil {
		return Rendered{}, partError(op, "subject", err)
	}
	// One line, so it can go into a mail header and an HTML <title>.
	r.Subject = strings.Join(strings.Fields(r.Subject), " ")
	if r.Text, err = renderText("text", t.Text, v); err != nil {
		return Rendered{}, partError(op, "text", err)
	}
	if r.HTML, err = renderHTML("html", t.HTML, v); err != nil {
		return Rendered{}, partError(op, "html", err)
	}
	return r, nil
}

// Check reports whether t is fit to save: its kind is known, it has the parts
// its kind needs (a subject and a text or HTML body for mail, text for
// KindSMS, HTML for KindLinkLanding), and each part renders with SampleVars.
// Errors are apperr Invalid with the offending part as the violation field.
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
	if _, err := Render(t, SampleVars("")); err != nil {
		var e *apperr.Error
		if errors.As(err, &e) {
			return e.With(op, nil)
		}
		return err
	}
	return nil
}

func partError(op, part string, err error) error {
	return apperr.Field(part, err.Error()).With(op, nil)
}

func renderText(name, src string, v Vars) (string, error) {
	if src == "" {
		return "", nil
	}
	t, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return "", err
	}
	for _, tt := range t.Templates() {
		if err := allowed(tt.Tree); err != nil {
			return "", err
		}
	}
	var w limitWriter
	if err := t.Execute(&w, v); err != nil {
		return "", err
	}
	return w.String(), nil
}

func renderHTML(name, src string, v Vars) (string, error) {
	if src == "" {
		return "", nil
	}
	t, err := htmltemplate.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return "", err
	}
	for _, tt := range t.Templates() {
		if err := allowed(tt.Tree); err != nil {
			return "", err
		}
	}
	var w limitWriter
	if err := t.Execute(&w, v); err != nil {
		return "", err
	}
	return w.String(), nil
}

// allowed rejects the actions that can repeat work: {{range}} (over an
// integer it loops) and {{template}} or {{block}} (which can recurse).
func allowed(tree *parse.Tree) error {
	if tree == nil || tree.Root == nil {
		return nil
	}
	var walk func(parse.Node) error
	walk = func(n parse.Node) error {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return nil
			}
			for _, c := range n.Nodes {
				if err := walk(c); err != nil {
					return err
				}
			}
		case *parse.IfNode:
			return walkBranch(walk, &n.BranchNode)
		case *parse.WithNode:
			return walkBranch(walk, &n.BranchNode)
		case *parse.RangeNode:
			return errors.New("{{range}} is not supported")
		case *parse.TemplateNode:
			return errors.New("{{template}} and {{block}} are not supported")
		}
		return nil
	}
	return walk(tree.Root)
}

func walkBranch(walk func(parse.Node) error, b *parse.BranchNode) error {
	if err := walk(b.List); err != nil {
		return err
	}
	if b.ElseList != nil {
		return walk(b.ElseList)
	}
	return nil
}

// limitWriter collects output up to maxOutput and fails past it, which stops
// the template's execution.
type limitWriter struct{ strings.Builder }

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.Len()+len(p) > maxOutput {
		return 0, errTooLarge
	}
	return w.Builder.Write(p)
}
