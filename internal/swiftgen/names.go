package swiftgen

import (
	"strings"
	"unicode"
)

// swiftKeywords are the words a Swift identifier must put in backticks.
var swiftKeywords = map[string]bool{
	"associatedtype": true, "class": true, "deinit": true, "enum": true, "extension": true,
	"fileprivate": true, "func": true, "import": true, "init": true, "inout": true,
	"internal": true, "let": true, "open": true, "operator": true, "private": true,
	"precedencegroup": true, "protocol": true, "public": true, "rethrows": true, "static": true,
	"struct": true, "subscript": true, "typealias": true, "var": true, "break": true,
	"case": true, "catch": true, "continue": true, "default": true, "defer": true, "do": true,
	"else": true, "fallthrough": true, "for": true, "guard": true, "if": true, "in": true,
	"repeat": true, "return": true, "throw": true, "switch": true, "where": true, "while": true,
	"Any": true, "as": true, "await": true, "false": true, "is": true, "nil": true,
	"self": true, "Self": true, "super": true, "throws": true, "true": true, "try": true,
	"Type": true, "Protocol": true, "some": true, "any": true,
}

// ident returns name as a Swift identifier, in backticks when it is a keyword.
func ident(name string) string {
	if swiftKeywords[name] {
		return "`" + name + "`"
	}
	return name
}

// camel joins the parts of a snake_case name in lowerCamelCase, as protoc
// derives JSON names: "user_name" → "userName", "qr_png" → "qrPng".
func camel(name string) string {
	var b strings.Builder
	upper := false
	for _, r := range name {
		switch {
		case r == '_':
			upper = b.Len() > 0
		case upper:
			b.WriteRune(unicode.ToUpper(r))
			upper = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// upperCamel is camel with the first letter upper-cased: "auth" → "Auth".
func upperCamel(name string) string {
	c := camel(name)
	if c == "" {
		return c
	}
	return strings.ToUpper(c[:1]) + c[1:]
}

// lowerFirst lower-cases a leading run of capitals the way Swift API
// guidelines do: "GetUser" → "getUser", "URLFetch" → "urlFetch".
func lowerFirst(name string) string {
	r := []rune(name)
	n := 0
	for n < len(r) && unicode.IsUpper(r[n]) {
		n++
	}
	switch {
	case n == 0:
		return name
	case n == 1 || n == len(r):
		n = max(n, 1)
	default:
		n-- // keep the capital that starts the next word
	}
	for i := 0; i < n; i++ {
		r[i] = unicode.ToLower(r[i])
	}
	return string(r)
}

// screamingSnake turns an enum name into its value prefix:
// "TwoFactorMethod" → "TWO_FACTOR_METHOD".
func screamingSnake(name string) string {
	var b strings.Builder
	r := []rune(name)
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) && (unicode.IsLower(r[i-1]) || (i+1 < len(r) && unicode.IsLower(r[i+1]))) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(c))
	}
	return b.String()
}

// enumCase names an enum value in Swift: the enum's prefix is dropped and the
// rest lowerCamelCased: USER_STATUS_ACTIVE → active, TEMPLATE_KIND_SIGNUP_CODE
// → signupCode.
func enumCase(enumName, valueName string) string {
	rest := strings.TrimPrefix(valueName, screamingSnake(enumName)+"_")
	if rest == "" || !unicode.IsLetter(rune(rest[0])) {
		rest = valueName
	}
	return camel(strings.ToLower(rest))
}
