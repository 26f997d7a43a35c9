package config

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
)

var domainRE = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// setMailFromDomains sets MailFromDomains from a comma list, or, when v is
// empty, to the domain of MailFrom (which Settings lists, and so sets,
// before it). Domains are kept lower-case.
func (c *Config) setMailFromDomains(v string) error {
	c.MailFromDomains = nil
	if strings.TrimSpace(v) == "" {
		a, err := mail.ParseAddress(c.MailFrom)
		if err != nil {
			return fmt.Errorf("empty, and COSYNC_MAIL_FROM %q is not an address to take the domain from", c.MailFrom)
		}
		v = a.Address[strings.LastIndexByte(a.Address, '@')+1:]
	}
	for _, d := range strings.Split(v, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		if len(d) > 253 || !domainRE.MatchString(d) {
			return fmt.Errorf("%q is not a domain like example.com", d)
		}
		c.MailFromDomains = append(c.MailFromDomains, d)
	}
	return nil
}
