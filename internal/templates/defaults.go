package templates

// The built-in English templates. The HTML is one column with inline styles
// and no tables, which every current mail client renders; developers start
// from these in the portal.

// DefaultLocales returns the locales that have built-in templates. The slice
// is the caller's.
func DefaultLocales() []string { return []string{"en"} }

// BuiltIn returns what to send of kind in locale when the app has no
// version of its own: the built-in template in locale, else in English.
// False only for an unknown kind.
func BuiltIn(kind Kind, locale string) (Template, bool) {
	if t, ok := Default(kind, locale); ok {
		return t, true
	}
	return Default(kind, "en")
}

// Default returns the built-in template of kind in locale. Every kind has an
// "en" default; any other locale, or an unknown kind, gives false.
func Default(kind Kind, locale string) (Template, bool) {
	if locale != "en" {
		return Template{}, false
	}
	t, ok := defaultsEN[kind]
	if !ok {
		return Template{}, false
	}
	t.Kind, t.Locale = kind, locale
	return t, true
}

// Building blocks of the HTML defaults.
const (
	htmlHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body style="margin:0;padding:0;background:#f4f5f7;">
<div style="max-width:480px;margin:0 auto;padding:32px 24px;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#1f2933;background:#ffffff;">
`
	htmlFoot = `</div>
</body>
</html>
`
	styleH1     = `margin:0 0 16px;font-size:22px;font-weight:600;`
	styleP      = `margin:0 0 16px;`
	styleCode   = `margin:24px 0;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:32px;font-weight:600;letter-spacing:6px;`
	styleButton = `display:inline-block;padding:12px 24px;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;border-radius:6px;`
	styleSmall  = `margin:24px 0 0;font-size:13px;color:#6b7280;`
)

var defaultsEN = map[Kind]Template{
	KindSignupCode: {
		Subject: `Your {{.AppName}} code: {{.Code}}`,
		Text: `Hi,

Here is your code to finish signing up to {{.AppName}} as {{.Handle}}:

    {{.Code}}

It expires in {{.ExpiresIn}}.

If you didn't sign up for {{.AppName}}, you can ignore this email.
`,
		HTML: htmlHead + `<h1 style="` + styleH1 + `">Confirm your email</h1>
<p style="` + styleP + `">Enter this code in {{.AppName}} to finish signing up as {{.Handle}}:</p>
<p style="` + styleCode + `">{{.Code}}</p>
<p style="` + styleP + `">It expires in {{.ExpiresIn}}.</p>
<p style="` + styleSmall + `">If you didn't sign up for {{.AppName}}, you can ignore this email.</p>
` + htmlFoot,
	},

	KindSignupLink: {
		Subject: `Confirm your email for {{.AppName}}`,
		Text: `Hi,

Confirm {{.Handle}} to finish signing up to {{.AppName}}:

{{.Link}}

Or enter this code in the app: {{.Code}}

The link and the code expire in {{.ExpiresIn}}.

If you didn't sign up for {{.AppName}}, you can ignore this email.
`,
		HTML: htmlHead + `<h1 style="` + styleH1 + `">Confirm your email</h1>
<p style="` + styleP + `">Confirm {{.Handle}} to finish signing up to {{.AppName}}.</p>
<p style="margin:24px 0;"><a href="{{.Link}}" style="` + styleButton + `">Confirm my email</a></p>
<p style="` + styleP + `">Or enter this code in the app: <strong style="font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;letter-spacing:2px;">{{.Code}}</strong></p>
<p style="` + styleP + `">The link and the code expire in {{.ExpiresIn}}.</p>
<p style="` + styleSmall + `">If you didn't sign up for {{.AppName}}, you can ignore this email.</p>
` + htmlFoot,
	},

	KindLinkLanding: {
		Subject: `Email confirmed · {{.AppName}}`,
		Text: `You're all set. {{.Handle}} is confirmed and your {{.AppName}} account is ready. You can close this page and go back to the app.
`,
		HTML: `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Email confirmed · {{.AppName}}</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;">
<div style="max-width:480px;margin:64px auto;padding:32px 24px;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#1f2933;background:#ffffff;border-radius:8px;text-align:center;">
<h1 style="` + styleH1 + `">You're all set</h1>
<p style="` + styleP + `">{{.Handle}} is confirmed and your {{.AppName}} account is ready.</p>
<p style="` + styleP + `">You can close this page and go back to the app.</p>
` + htmlFoot,
	},

	KindWelcome: {
		Subject: `Welcome to {{.AppName}}`,
		Text: `Hi,

Welcome to {{.AppName}}! Your account for {{.Handle}} is ready, and you can sign in any time.

If you didn't create this account, please reset your password or contact the {{.AppName}} team.
`,
		HTML: htmlHead + `<h1 style="` + styleH1 + `">Welcome to {{.AppName}}</h1>
<p style="` + styleP + `">Your account for {{.Handle}} is ready, and you can sign in any time.</p>
<p style="` + styleSmall + `">If you didn't create this account, please reset your password or contact the {{.AppName}} team.</p>
` + htmlFoot,
	},

	KindPasswordReset: {
		Subject: `Reset your {{.AppName}} password`,
		Text: `Hi,

We received a request to reset the {{.AppName}} password for {{.Handle}}. Use this code to choose a new one:

    {{.Code}}

It expires in {{.ExpiresIn}}.

If you didn't ask to reset your password, you can ignore this email; your password stays the same.
`,
		HTML: htmlHead + `<h1 style="` + styleH1 + `">Reset your password</h1>
<p style="` + styleP + `">We received a request to reset the {{.AppName}} password for {{.Handle}}. Use this code to choose a new one:</p>
<p style="` + styleCode + `">{{.Code}}</p>
<p style="` + styleP + `">It expires in {{.ExpiresIn}}.</p>
<p style="` + styleSmall + `">If you didn't ask to reset your password, you can ignore this email; your password stays the same.</p>
` + htmlFoot,
	},

	KindInvite: {
		Subject: `You're invited to {{.AppName}}`,
		Text: `Hi,

You've been invited to join {{.AppName}} as {{.Handle}}.
{{if .Link}}
Accept the invitation:

{{.Link}}
{{end}}
Your invitation code: {{.Code}}

The invitation expires in {{.ExpiresIn}}. If you weren't expecting it, you can ignore this email.
`,
		HTML: htmlHead + `<h1 style="` + styleH1 + `">You're invited</h1>
<p style="` + styleP + `">You've been invited to join {{.AppName}} as {{.Handle}}.</p>
{{if .Link}}<p style="margin:24px 0;"><a href="{{.Link}}" style="` + styleButton + `">Accept the invitation</a></p>
{{end}}<p style="` + styleP + `">Your invitation code: <strong style="font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;letter-spacing:2px;">{{.Code}}</strong></p>
<p style="` + styleP + `">The invitation expires in {{.ExpiresIn}}.</p>
<p style="` + styleSmall + `">If you weren't expecting this invitation, you can ignore this email.</p>
` + htmlFoot,
	},

	KindTOTPQR: {
		Subject: `Set up two-step verification for {{.AppName}}`,
		Text: `Hi,

To turn on two-step verification for {{.Handle}} on {{.AppName}}, open an authenticator app (such as Google Authenticator, Microsoft Authenticator or 1Password) and scan the QR code at:

{{.Link}}

Can't scan it? Add an account by hand with this key:

    {{.Code}}

Then enter the 6-digit code the app shows to finish.

If you didn't ask for this, change your {{.AppName}} password.
`,
		HTML: htmlHead + `<h1 style="` + styleH1 + `">Set up two-step verification</h1>
<p style="` + styleP + `">To turn on two-step verification for {{.Handle}} on {{.AppName}}, open an authenticator app (such as Google Authenticator, Microsoft Authenticator or 1Password) and scan this QR code:</p>
<p style="margin:24px 0;"><img src="{{.Link}}" width="200" height="200" alt="QR code for {{.AppName}}" style="display:block;border:0;"></p>
<p style="` + styleP + `">Can't scan it? Add an account by hand with this key:</p>
<p style="margin:0 0 16px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:16px;letter-spacing:2px;word-break:break-all;">{{.Code}}</p>
<p style="` + styleP + `">Then enter the 6-digit code the app shows to finish.</p>
<p style="` + styleSmall + `">If you didn't ask for this, change your {{.AppName}} password.</p>
` + htmlFoot,
	},

	KindSMS: {
		Text: `{{.Code}} is your {{.AppName}} code`,
	},

	KindAccountExists: {
		Subject: `Sign-up attempt on {{.AppName}}`,
		Text: `Hi,

Someone tried to sign up to {{.AppName}} with this address ({{.Handle}}), which already has an account. If it was you, sign in or reset your password.

If it wasn't you, you can ignore this email; your account is unchanged.
`,
		HTML: htmlHead + `<h1 style="` + styleH1 + `">You already have an account</h1>
<p style="` + styleP + `">Someone tried to sign up to {{.AppName}} with this address ({{.Handle}}), which already has an account. If it was you, sign in or reset your password.</p>
<p style="` + styleSmall + `">If it wasn't you, you can ignore this email; your account is unchanged.</p>
` + htmlFoot,
	},
}
