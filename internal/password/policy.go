package password

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Policy is a password composition policy. The zero value requires only the
// default minimum length of 8 characters.
type Policy struct {
	MinLength      int  // minimum length in Unicode code points; <= 0 means 8
	RequireUpper   bool // at least one rune for which unicode.IsUpper holds
	RequireLower   bool // at least one rune for which unicode.IsLower holds
	RequireDigit   bool // at least one rune for which unicode.IsDigit holds
	RequireSpecial bool // at least one rune that is neither letter nor digit
}

// defaultMinLength is the NIST SP 800-63B floor for user-chosen passwords.
const defaultMinLength = 8

// Check returns the rules pw does not meet as short human phrases, in the
// order "at least N characters", "an uppercase letter", "a lowercase letter",
// "a digit", "a special character", so a form can say "Your password needs
// …". It returns nil when every rule is met. Length counts Unicode code
// points, not bytes, so non-Latin passwords are not penalised.
func (p Policy) Check(pw string) []string {
	minLen := p.MinLength
	if minLen <= 0 {
		minLen = defaultMinLength
	}
	var upper, lower, digit, special bool
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		}
		switch {
		case unicode.IsDigit(r):
			digit = true
		case !unicode.IsLetter(r):
			special = true
		}
	}

	var unmet []string
	if utf8.RuneCountInString(pw) < minLen {
		unmet = append(unmet, "at least "+strconv.Itoa(minLen)+" characters")
	}
	if p.RequireUpper && !upper {
		unmet = append(unmet, "an uppercase letter")
	}
	if p.RequireLower && !lower {
		unmet = append(unmet, "a lowercase letter")
	}
	if p.RequireDigit && !digit {
		unmet = append(unmet, "a digit")
	}
	if p.RequireSpecial && !special {
		unmet = append(unmet, "a special character")
	}
	return unmet
}
