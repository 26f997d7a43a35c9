package cosyncjwt

import (
	"reflect"
	"testing"
)

// TestParseForm: the bodies the Swift SDK really sends, values raw.
func TestParseForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       fields
	}{
		{"escaped plus in a handle", "handle=a%2Bb@x.com&password=abc", fields{"handle": "a+b@x.com", "password": "abc"}},
		{"raw plus is a space", "phone=+14155550123", fields{"phone": " 14155550123"}},
		{"raw JSON with a space", `metaData={"name":{"last":"Van Dyke"}}`, fields{"metaData": `{"name":{"last":"Van Dyke"}}`}},
		{"semicolon and stray percent", `metaData={"a":"x; 100% y"}`, fields{"metaData": `{"a":"x; 100% y"}`}},
		{"percent at the end", "code=12%", fields{"code": "12%"}},
		{"bare name", "handle=a@x.com&senderUserId", fields{"handle": "a@x.com", "senderUserId": ""}},
		{"decoded once", "handle=a%252B@x.com", fields{"handle": "a%2B@x.com"}},
		{"first value wins", "a=1&a=2", fields{"a": "1"}},
		{"empty", "", fields{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := parseForm(tc.body); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseForm(%q) = %v, want %v", tc.body, got, tc.want)
			}
		})
	}
}

// TestParseJSON: Gson's strings, React's booleans, null omitted.
func TestParseJSON(t *testing.T) {
	t.Parallel()
	got, err := parseJSON([]byte(`{"handle":"a+b@x.com","twoFactor":true,"n":5,"metaData":{"a":1},"senderUserId":null}`))
	want := fields{"handle": "a+b@x.com", "twoFactor": "true", "n": "5", "metaData": `{"a":1}`}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseJSON = %v, %v; want %v", got, err, want)
	}
	if _, err := parseJSON([]byte(`[1]`)); err == nil {
		t.Errorf("parseJSON([1]) = nil error, want one")
	}
}
