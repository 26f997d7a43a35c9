package cosyncjwt

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// maxBody bounds a request body; CosyncJWT bodies are a few fields.
const maxBody = 64 << 10

// fields are a request's named values, decoded exactly once.
type fields map[string]string

func (f fields) get(name string) string { return f[name] }

// readFields reads a POST body as JSON (application/json, any charset) or
// as a form, leniently: see parseForm.
func readFields(r *http.Request) (fields, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return nil, err
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" || (mt == "" && len(strings.TrimSpace(string(body))) > 0 && strings.TrimSpace(string(body))[0] == '{') {
		return parseJSON(body)
	}
	return parseForm(string(body)), nil
}

// parseJSON takes a flat JSON object; strings stay as they are, booleans
// and numbers become their text, objects and arrays their JSON text (so a
// metaData sent as an object works too), null is absent.
func parseJSON(body []byte) (fields, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, err
	}
	f := fields{}
	for k, v := range raw {
		var s string
		switch {
		case string(v) == "null":
		case json.Unmarshal(v, &s) == nil:
			f[k] = s
		default:
			f[k] = string(v)
		}
	}
	return f, nil
}

// parseForm decodes an application/x-www-form-urlencoded body in one pass,
// as leniently as Express did, because the Swift SDK sends values raw: a
// `;`, `{`, `"` or a space pass through, a `%` not followed by two hex
// digits stays a `%`, `+` is a space and `%2B` a `+`. A name without `=`
// is present with an empty value. url.ParseQuery would drop such pairs.
func parseForm(s string) fields {
	f := fields{}
	for _, pair := range strings.Split(s, "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name = unescape(name)
		if _, dup := f[name]; !dup {
			f[name] = unescape(value)
		}
	}
	return f
}

// unescape decodes `+` and valid %XX escapes and keeps everything else.
func unescape(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(n))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}
