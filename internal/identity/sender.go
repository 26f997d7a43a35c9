package identity

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// CheckSender checks an application's sender address (settings.email_from)
// against the domains the operator allows (COSYNC_MAIL_FROM_DOMAINS). An
// empty from is fine: the app's mail then comes from the server's sender.
// Otherwise from must be one RFC 5322 address, optionally with a display
// name, whose domain is one of domains (compared without case; a subdomain
// must be listed itself). nil domains allow no sender of an app's own.
//
// So that the name cannot impersonate, from may hold no control or
// invisible formatting characters (CR and LF would add headers; bidi
// overrides and zero-width characters make a name read as another) and the
// display name may hold no "@" (`"security@bank.example" <x@allowed>`
// shows a foreign address). Telling "Google Security" from a real team
// name is beyond a rule, so the domain is what the operator answers for.
// Errors are apperr Invalid naming settings.email_from.
func CheckSender(from string, domains []string) error {
	const field = "settings.email_from"
	if from == "" {
		return nil
	}
	bad := func(format string, args ...any) error {
		return apperr.Field(field, fmt.Sprintf(format, args...)).With("identity.CheckSender", nil)
	}
	if r, ok := unprintable(from); ok {
		return bad("must not contain control or invisible characters (%U)", r)
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return bad("%q is not an address like \"Acme <no-reply@acme.example>\"", from)
	}
	// The name as a mail client shows it, after RFC 2047 decoding.
	if r, ok := unprintable(addr.Name); ok {
		return bad("the display name must not contain control or invisible characters (%U)", r)
	}
	if strings.Contains(addr.Name, "@") {
		return bad("the display name must not look like an address")
	}
	at := strings.LastIndexByte(addr.Address, '@')
	domain := strings.ToLower(addr.Address[at+1:])
	if !slices.ContainsFunc(domains, func(d string) bool { return strings.EqualFold(d, domain) }) {
		if len(domains) == 0 {
			return bad("this server sends every application's mail from its own address; leave it empty")
		}
		return bad("domain %q is not one this server may send from (%s)", domain, strings.Join(domains, ", "))
	}
	return nil
}

// unprintable returns the first control, formatting (bidi, zero-width) or
// invalid character in s.
func unprintable(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			return r, true
		}
	}
	return 0, false
}
