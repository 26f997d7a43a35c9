package identity

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/cosync/cosync-auth/internal/apperr"
)

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
// the app (signup or invite) whose value the user has, at its path.
func metadataClaims(a App, md map[string]any) map[string]any {
	out := map[string]any{}
	for _, fields := range [][]MetadataField{a.Settings.SignupMetadataFields, a.Settings.InviteMetadataFields} {
		for _, f := range fields {
			if v, ok := lookupPath(md, f.Path); ok && v != nil {
				setPath(out, f.Path, v)
			}
		}
	}
	return out
}
