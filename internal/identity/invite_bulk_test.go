package identity_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// csvEnv is newLimitsEnv with invite fields team (string, required),
// user_data.seats (number) and admin (bool).
func csvEnv(t *testing.T, st *store.Store) *limitsEnv {
	t.Helper()
	e := newLimitsEnv(t, st)
	ctx := context.Background()
	a, err := st.GetApp(ctx, e.app)
	if err != nil {
		t.Fatal(err)
	}
	a.Settings.InviteMetadataFields = []identity.MetadataField{
		{Path: "team", Name: "Team", Required: true, Type: identity.FieldString},
		{Path: "user_data.seats", Name: "Seats", Type: identity.FieldNumber},
		{Path: "admin", Name: "Admin", Type: identity.FieldBool},
	}
	if err := st.UpdateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	return e
}

// csvViolations returns the descriptions of an Invalid error's violations
// of field csv, and whether every violation names csv.
func csvViolations(err error) ([]string, bool) {
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind() != apperr.Invalid {
		return nil, false
	}
	var out []string
	for _, v := range e.Violations() {
		if v.Field != "csv" {
			return nil, false
		}
		out = append(out, v.Description)
	}
	return out, true
}

// TestCreateInvitationsCSV: a CSV's rows become invitations with typed
// metadata; every bad row is named by its line, and a CSV with any bad
// row stores, mails and counts nothing.
func TestCreateInvitationsCSV(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := csvEnv(t, st)
		ctx := context.Background()
		good := "\ufeffEmail, team ,user_data.seats,admin\r\n" +
			"Ann@Example.com,blue,3,TRUE\r\n" +
			"\r\n" + // blank lines are skipped
			`bob@example.com,"red, green",,no` + "\r\n"
		ivs, err := e.svc.CreateInvitationsCSV(ctx, e.dev, e.app, good, "")
		if err != nil {
			t.Fatalf("CreateInvitationsCSV = %v", err)
		}
		got := map[string]string{}
		for _, iv := range ivs {
			got[iv.Handle] = fmt.Sprint(iv.Metadata)
		}
		want := map[string]string{
			"ann@example.com": "map[admin:true team:blue user_data:map[seats:3]]",
			"bob@example.com": "map[admin:false team:red, green]",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("invitations from CSV = %v, want %v", got, want)
		}
		if n := e.mails(t); n != 2 {
			t.Errorf("mails after the CSV = %d, want 2", n)
		}

		for _, tc := range []struct {
			name, csv string
			want      []string // every violation's description, in order
		}{
			{"empty", "", []string{"is empty; its first row names the columns: email, then invite metadata field paths"}},
			{"header only", "email,team\n", []string{"line 1: has no rows after the header"}},
			{"no email column", "team\nblue\n", []string{"line 1: needs an email column"}},
			{"unknown column", "email,team,colour\na@example.com,blue,red\n",
				[]string{`line 1: column "colour" is not an invite metadata field of this application (they are team, user_data.seats, admin)`}},
			{"email and handle", "email,handle,team\n", []string{"line 1: give one of the columns email and handle, not both"}},
			{"a column twice", "email,team,Team\n", []string{`line 1: column "Team" appears twice`}},
			{"bad rows", "handle,team,user_data.seats,admin\n" +
				"c@example.com,blue,2,yes\n" +
				"not-an-email,blue,,\n" +
				"d@example.com,,many,maybe\n" +
				`"""Dee"" <e@example.com>",blue,,` + "\n" +
				"C@example.com,green,,\n" +
				"f..g@example.com,blue,,\n" +
				"h@example.com,blue,1,true,extra\n",
				[]string{
					"line 3: handle: must be an email address",
					"line 4: user_data.seats: must be a number",
					"line 4: admin: must be true or false",
					"line 5: handle: must be an email address",
					"line 6: handle: repeats line 2",
					"line 7: handle: must be an email address",
					"line 8: wrong number of fields",
				}},
			{"a required field missing", "email,team\ni@example.com,\n", []string{"line 2: team: is required"}},
			{"an open quote", "email,team\nj@example.com,\"blue\n", []string{`line 2: extraneous or missing " in quoted-field`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := e.mails(t)
				_, err := e.svc.CreateInvitationsCSV(ctx, e.dev, e.app, tc.csv, "")
				got, ok := csvViolations(err)
				if !ok || apperr.ReasonOf(err) != apperr.ReasonInvalidArgument {
					t.Fatalf("CreateInvitationsCSV(%s) = %v, want INVALID_ARGUMENT on csv only", tc.name, err)
				}
				// Row order within a line follows the columns, which a map
				// ranges over: compare as sets per line.
				slices.Sort(got)
				want := slices.Clone(tc.want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("CreateInvitationsCSV(%s) violations:\n%s\nwant:\n%s", tc.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				if n := e.mails(t); n != before {
					t.Errorf("a refused CSV mailed %d messages", n-before)
				}
			})
		}
		list, err := e.svc.ListInvitations(ctx, e.dev, e.app, "", "", 100)
		if err != nil || len(list) != 2 {
			t.Errorf("invitations after the refused CSVs = %d, %v; want the first 2 only", len(list), err)
		}

		// At most MaxInvitationsPerCall rows: one more is refused whole.
		var b strings.Builder
		b.WriteString("email,team\n")
		for i := range identity.MaxInvitationsPerCall + 1 {
			fmt.Fprintf(&b, "p%d@example.com,blue\n", i)
		}
		_, err = e.svc.CreateInvitationsCSV(ctx, e.dev, e.app, b.String(), "")
		if got, ok := csvViolations(err); !ok || len(got) != 1 || got[0] != fmt.Sprintf("must hold at most %d rows after the header", identity.MaxInvitationsPerCall) {
			t.Errorf("CreateInvitationsCSV of %d rows = %v, want one csv violation on the row count", identity.MaxInvitationsPerCall+1, err)
		}
		_, err = e.svc.CreateInvitationsCSV(ctx, e.dev, e.app, good, "xx")
		wantReason(t, "CreateInvitationsCSV in a locale the app lacks", err, apperr.ReasonLocaleUnsupported)
	})
}

// TestCreateInvitationsRepeats: a list naming one email twice is refused
// whole, naming the repeat.
func TestCreateInvitationsRepeats(t *testing.T) {
	t.Parallel()
	e := csvEnv(t, storetest.SQLite(t))
	md := map[string]any{"team": "blue"}
	_, err := e.svc.CreateInvitations(context.Background(), e.dev, e.app, []identity.InviteInput{
		{Handle: "a@example.com", Metadata: md}, {Handle: "b@example.com", Metadata: md}, {Handle: "A@example.com", Metadata: md},
	})
	if !hasViolation(err, "invitations[2].handle") {
		t.Errorf("CreateInvitations with a repeated email = %v, want a violation of invitations[2].handle", err)
	}
	if n := e.mails(t); n != 0 {
		t.Errorf("the refused list mailed %d messages", n)
	}
}
