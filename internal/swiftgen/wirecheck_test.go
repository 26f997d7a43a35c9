package swiftgen

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

var (
	rfc3339  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6}|\.\d{9})?Z$`)
	duration = regexp.MustCompile(`^-?\d+(\.\d{3}|\.\d{6}|\.\d{9})?s$`)
	mask     = regexp.MustCompile(`^([a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)*(,[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)*)*)?$`)
)

// checkJSON holds one JSON object (decoded with UseNumber) against the
// Swift model of msg: every key must be the JSON name of a field the
// generator emitted, and every value of the kind that field's Swift decoder
// accepts, recursively. It returns one line per mismatch.
func checkJSON(msg *Message, v any, path string) []string {
	obj, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: %s wants a JSON object, got %T", path, msg.FullName, v)}
	}
	var errs []string
	oneofs := map[*Oneof]string{}
	for _, key := range sortedKeys(obj) {
		f := msg.FieldByJSON(key)
		p := path + "." + key
		switch {
		case f == nil:
			errs = append(errs, fmt.Sprintf("%s: %s has no field with JSON name %q", p, msg.FullName, key))
			continue
		case f.JSONName != key:
			errs = append(errs, fmt.Sprintf("%s: written under the proto name; the server writes %q", p, f.JSONName))
		}
		if o := f.Oneof; o != nil {
			if other, dup := oneofs[o]; dup {
				errs = append(errs, fmt.Sprintf("%s: oneof %s already set by %q", p, o.ProtoName, other))
			}
			oneofs[o] = key
		}
		val := obj[key]
		switch {
		case f.Map():
			m, ok := val.(map[string]any)
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: map wants an object, got %T", p, val))
				continue
			}
			for _, k := range sortedKeys(m) {
				if e := checkMapKey(*f.MapKey, k); e != "" {
					errs = append(errs, fmt.Sprintf("%s[%q]: %s", p, k, e))
				}
				errs = append(errs, checkValue(f.Type, m[k], fmt.Sprintf("%s[%q]", p, k))...)
			}
		case f.Repeated:
			list, ok := val.([]any)
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: repeated field wants an array, got %T", p, val))
				continue
			}
			for i, e := range list {
				errs = append(errs, checkValue(f.Type, e, fmt.Sprintf("%s[%d]", p, i))...)
			}
		default:
			errs = append(errs, checkValue(f.Type, val, p)...)
		}
	}
	return errs
}

func checkMapKey(t Type, k string) string {
	var err error
	switch t.Kind {
	case KindInt32:
		_, err = strconv.ParseInt(k, 10, 32)
	case KindUInt32:
		_, err = strconv.ParseUint(k, 10, 32)
	case KindInt64:
		_, err = strconv.ParseInt(k, 10, 64)
	case KindUInt64:
		_, err = strconv.ParseUint(k, 10, 64)
	case KindBool:
		if k != "true" && k != "false" {
			err = fmt.Errorf("not a bool")
		}
	}
	if err != nil {
		return fmt.Sprintf("map key is not a %v: %v", t.Kind, err)
	}
	return ""
}

// checkValue checks one value against what the Swift type's decoder
// accepts (see runtime/ProtoJSON.swift and ProtoWellKnown.swift).
func checkValue(t Type, v any, path string) []string {
	bad := func(format string, args ...any) []string {
		return []string{fmt.Sprintf("%s: %v (%s) ", path, t.Kind, t.Swift) + fmt.Sprintf(format, args...)}
	}
	if v == nil && t.Kind != KindValue {
		return nil // null reads as the default
	}
	s, isString := v.(string)
	n, isNumber := v.(json.Number)
	switch t.Kind {
	case KindString:
		if !isString {
			return bad("wants a string, got %T", v)
		}
	case KindBool:
		if _, ok := v.(bool); !ok {
			return bad("wants a bool, got %T", v)
		}
	case KindInt32, KindUInt32, KindInt64, KindUInt64:
		text := s
		if isNumber {
			text = n.String()
		} else if !isString {
			return bad("wants a number or a numeric string, got %T", v)
		}
		bits := 32
		if t.Kind == KindInt64 || t.Kind == KindUInt64 {
			bits = 64
			if isNumber {
				return bad("wants a string (64-bit integers are strings in proto3 JSON), got number %s", n)
			}
		}
		var err error
		if t.Kind == KindUInt32 || t.Kind == KindUInt64 {
			_, err = strconv.ParseUint(text, 10, bits)
		} else {
			_, err = strconv.ParseInt(text, 10, bits)
		}
		if err != nil {
			return bad("%q does not fit: %v", text, err)
		}
	case KindFloat, KindDouble:
		switch {
		case isNumber:
			if f, err := n.Float64(); err != nil || math.IsInf(f, 0) {
				return bad("%s is not a finite number", n)
			}
		case isString && (s == "NaN" || s == "Infinity" || s == "-Infinity"):
		default:
			return bad("wants a number, got %v", v)
		}
	case KindBytes:
		if !isString {
			return bad("wants a base64 string, got %T", v)
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return bad("%q is not standard base64: %v", s, err)
		}
	case KindEnum:
		switch {
		case isString:
			if t.Enum.ValueByName(s) == nil {
				return bad("%q is not a value of %s the Swift enum knows", s, t.Enum.FullName)
			}
		case isNumber:
		default:
			return bad("wants an enum name, got %T", v)
		}
	case KindMessage:
		return checkJSON(t.Message, v, path)
	case KindTimestamp:
		if !isString || !rfc3339.MatchString(s) {
			return bad("wants an RFC 3339 UTC string with 0, 3, 6 or 9 fraction digits, got %v", v)
		}
	case KindDuration:
		if !isString || !duration.MatchString(s) {
			return bad(`wants a "<seconds>s" string, got %v`, v)
		}
	case KindFieldMask:
		if !isString || !mask.MatchString(s) || strings.Contains(s, "_") {
			return bad("wants comma-joined lowerCamelCase paths, got %v", v)
		}
	case KindStruct, KindEmpty:
		if _, ok := v.(map[string]any); !ok {
			return bad("wants an object, got %T", v)
		}
	case KindListValue:
		if _, ok := v.([]any); !ok {
			return bad("wants an array, got %T", v)
		}
	case KindValue:
	}
	return nil
}
