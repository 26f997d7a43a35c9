package identity_test

import (
	"strings"
	"testing"

	"github.com/cosync/cosync-auth/internal/identity"
)

// FuzzInvitationsCSV: any text parses without a panic into violations,
// or else into at least one and at most MaxInvitationsPerCall invitations;
// every violation names csv, and every invitation has a checked email and
// only declared metadata, the required field present.
func FuzzInvitationsCSV(f *testing.F) {
	fields := []identity.MetadataField{
		{Path: "team", Required: true, Type: identity.FieldString},
		{Path: "user_data.seats", Type: identity.FieldNumber},
		{Path: "admin", Type: identity.FieldBool},
	}
	for _, seed := range []string{
		"email,team\na@example.com,blue\n",
		"\ufeffhandle,team,user_data.seats,admin\r\nb@example.com,\"red, green\",3,yes\r\n",
		"email,team\na@example.com\n", "email,email\n", "team\n", "", "\"", "email,team\n\"a@example.com,x\n",
		"email,team,admin\na@example.com,x,maybe\nA@example.com,y,no\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ins, vs := identity.ParseInvitationsCSV(fields, text)
		if len(ins) == 0 && len(vs) == 0 {
			t.Fatalf("ParseInvitationsCSV(%q) gave neither invitations nor violations", text)
		}
		for _, v := range vs {
			if v.Field != "csv" || v.Description == "" {
				t.Fatalf("ParseInvitationsCSV(%q): violation %+v does not name csv", text, v)
			}
		}
		if len(vs) > 0 {
			return
		}
		if len(ins) > identity.MaxInvitationsPerCall {
			t.Fatalf("ParseInvitationsCSV(%q) gave %d invitations", text, len(ins))
		}
		for _, in := range ins {
			if !strings.Contains(in.Handle, "@") || in.Handle != strings.TrimSpace(in.Handle) {
				t.Fatalf("ParseInvitationsCSV(%q) let through handle %q", text, in.Handle)
			}
			if _, ok := in.Metadata["team"].(string); !ok {
				t.Fatalf("ParseInvitationsCSV(%q) let through metadata %v without the required team", text, in.Metadata)
			}
			for k := range in.Metadata {
				if k != "team" && k != "user_data" && k != "admin" {
					t.Fatalf("ParseInvitationsCSV(%q) let through an undeclared field %q", text, k)
				}
			}
		}
	})
}
