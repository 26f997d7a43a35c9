package identity

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// reservedMetadataNames are the claim names a metadata path may not start
// with, because a token verifier trusts them as the server's word rather
// than the user's. Chosen from the registered claims of JWT (RFC 7519
// §4.1); OpenID Connect Core 1.0: the ID-token claims (§2) and the standard
// claims that name or verify a person (§5.1: name, preferred_username,
// email, phone_number and their _verified flags); token exchange (RFC 8693
// §4: act, may_act, scope, client_id); JWT access tokens (RFC 9068 §2.2:
// auth_time, acr, amr, groups, roles, entitlements); proof of possession
// (RFC 7800: cnf); Security Event Tokens (RFC 8417: events, txn, toe); the
// "scp" spelling of scope and "role", which Supabase, Hasura and PostgREST
// read; and the claims this server sets itself (ReservedClaims).
//
// The purely descriptive profile claims of OIDC §5.1 (given_name,
// family_name, nickname, picture, birthdate, locale, …) stay allowed: an
// OIDC provider takes them from the user too, and apps collect them at
// signup. A path under a reserved name ("email.work") is refused as well:
// the claim would become an object no verifier expects.
var reservedMetadataNames = func() map[string]bool {
	m := map[string]bool{}
	for _, group := range [][]string{
		{"iss", "sub", "aud", "exp", "nbf", "iat", "jti"},                                                  // RFC 7519
		{"nonce", "auth_time", "acr", "amr", "azp", "at_hash", "c_hash", "s_hash", "sid"},                  // OIDC ID token
		{"name", "preferred_username", "email", "email_verified", "phone_number", "phone_number_verified"}, // OIDC §5.1
		{"act", "may_act", "scope", "scp", "client_id"},                                                    // RFC 8693
		{"groups", "roles", "entitlements", "role"},                                                        // RFC 9068, SCIM; role: Supabase, Hasura
		{"cnf"},                  // RFC 7800
		{"events", "txn", "toe"}, // RFC 8417
	} {
		for _, n := range group {
			m[n] = true
		}
	}
	for n := range ReservedClaims {
		m[n] = true
	}
	return m
}()

// reservedMetadataName reports whether a metadata path may not start with
// the segment seg. Case is ignored: "Email_Verified" reads as the claim to a
// person and to a verifier that folds case.
func reservedMetadataName(seg string) bool {
	return reservedMetadataNames[strings.ToLower(seg)]
}

// checkMetadata validates in against fields and returns a new nested object
// holding exactly the declared values present in in. Unknown paths, wrong
// types and missing required fields are named as `metadata.<path>`.
// requireAll=false skips the required check (partial updates).
func checkMetadata(fields []MetadataField, in map[string]any, requireAll bool) (map[string]any, error) {
	out := map[string]any{}
	var vs []apperr.Violation
	bad := func(path, format string, args ...any) {
		vs = append(vs, apperr.Violation{Field: "metadata." + path, Description: fmt.Sprintf(format, args...)})
	}
	known := map[string]bool{}
	for _, f := range fields {
		known[f.Path] = true
		v, ok := lookupPath(in, f.Path)
		if !ok || v == nil {
			if f.Required && requireAll {
				bad(f.Path, "is required")
			}
			continue
		}
		if !typeMatches(f.Type, v) {
			bad(f.Path, "must be a %s", f.Type)
			continue
		}
		if s, isString := v.(string); isString && len(s) > 1024 {
			bad(f.Path, "must be at most 1024 bytes")
			continue
		}
		setPath(out, f.Path, v)
	}
	for _, p := range leafPaths(in, "") {
		if v, _ := lookupPath(in, p); isEmptyObject(v) && parentOfKnown(known, p) {
			continue // {"user_data": {}}: nothing in it, nothing wrong
		}
		if !known[p] && !prefixOfKnown(known, p) {
			bad(p, "is not a metadata field of this application")
		}
	}
	slices.SortFunc(vs, func(a, b apperr.Violation) int { return strings.Compare(a.Field, b.Field) })
	if err := apperr.Fields(apperr.ReasonMetadataInvalid, vs); err != nil {
		return nil, err
	}
	return out, nil
}

func prefixOfKnown(known map[string]bool, p string) bool {
	for k := range known {
		if strings.HasPrefix(p, k+".") {
			return true
		}
	}
	return false
}

func parentOfKnown(known map[string]bool, p string) bool {
	for k := range known {
		if strings.HasPrefix(k, p+".") {
			return true
		}
	}
	return false
}

func isEmptyObject(v any) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) == 0
}

func typeMatches(t FieldType, v any) bool {
	switch t {
	case FieldString:
		_, ok := v.(string)
		return ok
	case FieldNumber:
		f, ok := v.(float64)
		return ok && !math.IsNaN(f) && !math.IsInf(f, 0)
	case FieldBool:
		_, ok := v.(bool)
		return ok
	}
	return false
}

// lookupPath returns the value at a dotted path in a nested object.
func lookupPath(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, seg := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[seg]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// setPath sets a value at a dotted path, making objects on the way.
func setPath(m map[string]any, path string, v any) {
	segs := strings.Split(path, ".")
	for _, seg := range segs[:len(segs)-1] {
		next, ok := m[seg].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[seg] = next
		}
		m = next
	}
	m[segs[len(segs)-1]] = v
}

// leafPaths lists the dotted paths of every non-object value in m.
func leafPaths(m map[string]any, prefix string) []string {
	var out []string
	for k, v := range m {
		p := prefix + k
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			out = append(out, leafPaths(sub, p+".")...)
			continue
		}
		out = append(out, p)
	}
	return out
}

// metadataClaims returns the claims for a user's metadata: every field of
// the app (signup or invite) whose value the user has, at its path. A field
// under a reserved name (an app saved before the name was reserved) gives
// no claim.
func metadataClaims(a App, md map[string]any) map[string]any {
	out := map[string]any{}
	for _, fields := range [][]MetadataField{a.Settings.SignupMetadataFields, a.Settings.InviteMetadataFields} {
		for _, f := range fields {
			if seg, _, _ := strings.Cut(f.Path, "."); reservedMetadataName(seg) {
				continue // saved before the name was reserved: never a claim
			}
			if v, ok := lookupPath(md, f.Path); ok && v != nil {
				setPath(out, f.Path, v)
			}
		}
	}
	return out
}
