package identity

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// violationFields returns the fields an Invalid error names, in order.
func violationFields(tb testing.TB, err error) []string {
	tb.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %v is %T, want *apperr.Error", err, err)
	}
	var out []string
	for _, v := range e.Violations() {
		out = append(out, v.Field)
		if v.Description == "" {
			tb.Errorf("violation %s has no description", v.Field)
		}
	}
	return out
}

var testMetadataFields = []MetadataField{
	{Path: "user_data.name", Type: FieldString, Required: true},
	{Path: "user_data.age", Type: FieldNumber},
	{Path: "newsletter", Type: FieldBool},
}

func TestCheckMetadata(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 513) // 1026 bytes, 513 runes
	tests := []struct {
		name       string
		in         map[string]any
		requireAll bool
		want       map[string]any // when ok
		wantFields []string       // violations; nil: ok
	}{
		{
			name:       "all fields",
			in:         map[string]any{"user_data": map[string]any{"name": "Ann", "age": 30.0}, "newsletter": true},
			requireAll: true,
			want:       map[string]any{"user_data": map[string]any{"name": "Ann", "age": 30.0}, "newsletter": true},
		},
		{
			name:       "only the required field",
			in:         map[string]any{"user_data": map[string]any{"name": "Ann"}},
			requireAll: true,
			want:       map[string]any{"user_data": map[string]any{"name": "Ann"}},
		},
		{
			name:       "null optional field is dropped",
			in:         map[string]any{"user_data": map[string]any{"name": "Ann", "age": nil}},
			requireAll: true,
			want:       map[string]any{"user_data": map[string]any{"name": "Ann"}},
		},
		{
			name:       "falsy values are kept",
			in:         map[string]any{"user_data": map[string]any{"name": "", "age": 0.0}, "newsletter": false},
			requireAll: true,
			want:       map[string]any{"user_data": map[string]any{"name": "", "age": 0.0}, "newsletter": false},
		},
		{
			name:       "string of exactly 1024 bytes",
			in:         map[string]any{"user_data": map[string]any{"name": strings.Repeat("a", 1024)}},
			requireAll: true,
			want:       map[string]any{"user_data": map[string]any{"name": strings.Repeat("a", 1024)}},
		},
		{
			name:       "partial update without the required field",
			in:         map[string]any{"newsletter": false},
			requireAll: false,
			want:       map[string]any{"newsletter": false},
		},
		{
			name:       "empty partial update",
			in:         map[string]any{},
			requireAll: false,
			want:       map[string]any{},
		},
		{
			name:       "required missing",
			in:         map[string]any{"newsletter": true},
			requireAll: true,
			wantFields: []string{"metadata.user_data.name"},
		},
		{
			name:       "required missing from nil input",
			in:         nil,
			requireAll: true,
			wantFields: []string{"metadata.user_data.name"},
		},
		{
			name:       "required null",
			in:         map[string]any{"user_data": map[string]any{"name": nil}},
			requireAll: true,
			wantFields: []string{"metadata.user_data.name"},
		},
		{
			name:       "number for string",
			in:         map[string]any{"user_data": map[string]any{"name": 5.0}},
			requireAll: true,
			wantFields: []string{"metadata.user_data.name"},
		},
		{
			name:       "string for number",
			in:         map[string]any{"user_data": map[string]any{"name": "Ann", "age": "30"}},
			requireAll: true,
			wantFields: []string{"metadata.user_data.age"},
		},
		{
			name:       "bool for number",
			in:         map[string]any{"user_data": map[string]any{"name": "Ann", "age": true}},
			requireAll: true,
			wantFields: []string{"metadata.user_data.age"},
		},
		{
			name:       "string for bool",
			in:         map[string]any{"user_data": map[string]any{"name": "Ann"}, "newsletter": "yes"},
			requireAll: true,
			wantFields: []string{"metadata.newsletter"},
		},
		{
			name:       "wrong type in a partial update",
			in:         map[string]any{"newsletter": 1.0},
			requireAll: false,
			wantFields: []string{"metadata.newsletter"},
		},
		{
			name:       "object for string",
			in:         map[string]any{"user_data": map[string]any{"name": map[string]any{"first": "Ann"}}},
			requireAll: true,
			wantFields: []string{"metadata.user_data.name"},
		},
		{
			name:       "string longer than 1024 bytes",
			in:         map[string]any{"user_data": map[string]any{"name": long}},
			requireAll: true,
			wantFields: []string{"metadata.user_data.name"},
		},
		{
			name:       "unknown top-level path",
			in:         map[string]any{"user_data": map[string]any{"name": "Ann"}, "is_admin": true},
			requireAll: true,
			wantFields: []string{"metadata.is_admin"},
		},
		{
			name:       "unknown nested path",
			in:         map[string]any{"user_data": map[string]any{"name": "Ann", "role": "admin"}},
			requireAll: true,
			wantFields: []string{"metadata.user_data.role"},
		},
		{
			name:       "unknown deeply nested path",
			in:         map[string]any{"user_data": map[string]any{"name": "Ann", "x": map[string]any{"y": map[string]any{"z": 1.0}}}},
			requireAll: true,
			wantFields: []string{"metadata.user_data.x.y.z"},
		},
		{
			name:       "unknown path in a partial update",
			in:         map[string]any{"role": "admin"},
			requireAll: false,
			wantFields: []string{"metadata.role"},
		},
		{
			name:       "scalar where an object is declared",
			in:         map[string]any{"user_data": "Ann"},
			requireAll: true,
			wantFields: []string{"metadata.user_data", "metadata.user_data.name"},
		},
		{
			name:       "every violation, sorted",
			in:         map[string]any{"zzz": 1.0, "newsletter": "no", "user_data": map[string]any{"age": "old"}},
			requireAll: true,
			wantFields: []string{"metadata.newsletter", "metadata.user_data.age", "metadata.user_data.name", "metadata.zzz"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := checkMetadata(testMetadataFields, tc.in, tc.requireAll)
			if tc.wantFields == nil {
				if err != nil {
					t.Fatalf("checkMetadata(%v, %v) = %v, want nil", tc.in, tc.requireAll, err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("checkMetadata(%v, %v) = %v, want %v", tc.in, tc.requireAll, got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("checkMetadata(%v, %v) = %v, nil; want violations %q", tc.in, tc.requireAll, got, tc.wantFields)
			}
			if k := apperr.KindOf(err); k != apperr.Invalid {
				t.Errorf("checkMetadata(%v, %v) kind = %v, want %v", tc.in, tc.requireAll, k, apperr.Invalid)
			}
			if r := apperr.ReasonOf(err); r != apperr.ReasonMetadataInvalid {
				t.Errorf("checkMetadata(%v, %v) reason = %q, want %q", tc.in, tc.requireAll, r, apperr.ReasonMetadataInvalid)
			}
			if fs := violationFields(t, err); !slices.Equal(fs, tc.wantFields) {
				t.Errorf("checkMetadata(%v, %v) violations = %q, want %q", tc.in, tc.requireAll, fs, tc.wantFields)
			}
		})
	}
}

// The result is a new object: changing it leaves the input alone.
func TestCheckMetadataCopies(t *testing.T) {
	t.Parallel()
	in := map[string]any{"user_data": map[string]any{"name": "Ann"}}
	out, err := checkMetadata(testMetadataFields, in, true)
	if err != nil {
		t.Fatalf("checkMetadata(%v) = %v", in, err)
	}
	out["user_data"].(map[string]any)["name"] = "Bob"
	if got := in["user_data"].(map[string]any)["name"]; got != "Ann" {
		t.Errorf("after changing the result, input name = %v, want Ann", got)
	}
}

func TestMetadataClaims(t *testing.T) {
	t.Parallel()
	app := App{ID: "a1", Settings: DefaultSettings()}
	app.Settings.SignupMetadataFields = []MetadataField{
		{Path: "user_data.name", Type: FieldString},
		{Path: "user_data.age", Type: FieldNumber},
	}
	app.Settings.InviteMetadataFields = []MetadataField{
		{Path: "team.role", Type: FieldString},
		{Path: "beta", Type: FieldBool},
	}
	tests := []struct {
		name string
		md   map[string]any
		want map[string]any
	}{
		{"nil metadata", nil, map[string]any{}},
		{"empty metadata", map[string]any{}, map[string]any{}},
		{
			name: "signup and invite fields",
			md:   map[string]any{"user_data": map[string]any{"name": "Ann", "age": 41.0}, "team": map[string]any{"role": "lead"}, "beta": false},
			want: map[string]any{"user_data": map[string]any{"name": "Ann", "age": 41.0}, "team": map[string]any{"role": "lead"}, "beta": false},
		},
		{
			name: "undeclared values are left out",
			md:   map[string]any{"user_data": map[string]any{"name": "Ann", "ssn": "123"}, "internal": "x", "team": map[string]any{"budget": 1e6}},
			want: map[string]any{"user_data": map[string]any{"name": "Ann"}},
		},
		{
			name: "null values are left out",
			md:   map[string]any{"user_data": map[string]any{"name": nil}, "beta": true},
			want: map[string]any{"beta": true},
		},
		{
			name: "a scalar where an object is declared is left out",
			md:   map[string]any{"user_data": "Ann"},
			want: map[string]any{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := metadataClaims(app, tc.md); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("metadataClaims(%v) = %v, want %v", tc.md, got, tc.want)
			}
		})
	}
}

// TestReservedMetadataPaths: no metadata field, signup or invite, may sit at
// or under a claim a verifier trusts; the error names the field.
func TestReservedMetadataPaths(t *testing.T) {
	t.Parallel()
	reserved := []string{
		"iss", "sub", "aud", "exp", "nbf", "iat", "jti", // RFC 7519
		"sid", "nonce", "auth_time", "acr", "amr", "azp", "at_hash", "c_hash", "s_hash", // OIDC ID token
		"name", "preferred_username", "email", "email_verified", "phone_number", "phone_number_verified", // OIDC §5.1
		"act", "may_act", "scope", "scp", "client_id", // RFC 8693
		"groups", "roles", "entitlements", "role", "cnf", "events", "txn", "toe",
		"user_name",                     // set by this server
		"Email_Verified", "ROLE", "Sub", // case does not matter
	}
	for _, name := range reserved {
		for _, path := range []string{name, name + ".x"} {
			for _, list := range []string{"signup_metadata_fields", "invite_metadata_fields"} {
				t.Run(list+"/"+path, func(t *testing.T) {
					t.Parallel()
					s := DefaultSettings()
					fields := []MetadataField{{Path: "user_data.name", Type: FieldString}, {Path: path, Type: FieldString}}
					if list == "signup_metadata_fields" {
						s.SignupMetadataFields = fields
					} else {
						s.InviteMetadataFields = fields
					}
					err := s.Validate()
					if apperr.KindOf(err) != apperr.Invalid || apperr.ReasonOf(err) != apperr.ReasonInvalidArgument {
						t.Fatalf("Validate(%s %q) = %v, want Invalid", list, path, err)
					}
					want := []string{"settings." + list + "[1].path"}
					if got := violationFields(t, err); !slices.Equal(got, want) {
						t.Errorf("Validate(%s %q) names %q, want %q", list, path, got, want)
					}
				})
			}
		}
	}
	// Descriptive profile claims, and reserved names deeper in a path, are fine.
	s := DefaultSettings()
	s.SignupMetadataFields = []MetadataField{
		{Path: "given_name", Type: FieldString}, {Path: "family_name", Type: FieldString},
		{Path: "profile.picture", Type: FieldString}, {Path: "user_data.email", Type: FieldString},
		{Path: "user_data.role", Type: FieldString}, {Path: "emails", Type: FieldString},
	}
	s.InviteMetadataFields = []MetadataField{{Path: "team.roles", Type: FieldString}, {Path: "locale", Type: FieldString}}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate(descriptive paths) = %v, want nil", err)
	}
}

// TestMetadataClaimsSkipReserved: an app saved before a name was reserved
// keeps its field, but the field never becomes a claim.
func TestMetadataClaimsSkipReserved(t *testing.T) {
	t.Parallel()
	var a App
	a.Settings.SignupMetadataFields = []MetadataField{{Path: "role", Type: FieldString}, {Path: "user_data.name", Type: FieldString}}
	a.Settings.InviteMetadataFields = []MetadataField{{Path: "email_verified", Type: FieldBool}}
	md := map[string]any{"role": "admin", "email_verified": true, "user_data": map[string]any{"name": "Ann"}}
	want := map[string]any{"user_data": map[string]any{"name": "Ann"}}
	if got := metadataClaims(a, md); !reflect.DeepEqual(got, want) {
		t.Errorf("metadataClaims = %v, want %v", got, want)
	}
}
