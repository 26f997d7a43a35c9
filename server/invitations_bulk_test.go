package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/identity"
)

// TestCreateInvitationsCSV: a CSV sent as curl JSON invites every row with
// its typed metadata and the invitees register with the mailed codes; a
// CSV with a bad row answers 400 naming csv and the line and invites
// nobody; a full CSV of MaxInvitationsPerCall rows goes in one call.
func TestCreateInvitationsCSV(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		e.enableInvites(t, dev, app)

		csv := "email,team\nann@example.com,blue\n\"bob@example.com\",\"red, green\"\n"
		body, _ := json.Marshal(map[string]any{"app_id": app, "csv": csv})
		r := e.adminJSON(t, dev, "CreateInvitations", string(body))
		if r.status != http.StatusOK {
			t.Fatalf("CreateInvitations(csv) over JSON = %d %s", r.status, r.body)
		}
		var res struct {
			Invitations []struct {
				Handle   string
				Metadata map[string]any
				State    string
			}
		}
		if err := json.Unmarshal(r.body, &res); err != nil || len(res.Invitations) != 2 ||
			res.Invitations[1].Metadata["team"] != "red, green" || res.Invitations[0].State != "INVITATION_STATE_PENDING" {
			t.Fatalf("CreateInvitations(csv) = %s (%v), want ann's and bob's pending invitations with their teams", r.body, err)
		}
		reg, err := e.auth.Register(as(ctx, app, ""), &authv1.RegisterRequest{Handle: "bob@example.com", Password: "long-enough-pw",
			InviteCode: e.outboxCode(t, dev, app, "bob@example.com"), Metadata: mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Bob"}})})
		if err != nil || reg.GetSession().GetUser().GetMetadata().AsMap()["team"] != "red, green" {
			t.Fatalf("Register with the CSV's invitation = %v, %v; want team from the CSV", reg, err)
		}

		// A bad row refuses the whole CSV, naming the line.
		bad := "email,team\ncy@example.com,blue\ncy-at-example.com,blue\ndee@example.com,\n"
		body, _ = json.Marshal(map[string]any{"app_id": app, "csv": bad})
		r = e.adminJSON(t, dev, "CreateInvitations", string(body))
		for _, want := range []string{`"csv"`, "line 3: email: must be an email address", "line 4: team: is required"} {
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), want) {
				t.Errorf("CreateInvitations(bad csv) = %d %s, want 400 naming %s", r.status, r.body, want)
			}
		}
		// Both forms at once, or neither, is refused by the contract.
		_, err = e.admin.CreateInvitations(as(ctx, "", dev), &adminv1.CreateInvitationsRequest{AppId: app, Csv: csv,
			Invitations: []*adminv1.InvitationInput{{Handle: "x@example.com"}}})
		if c, _ := reason(err); c != connect.CodeInvalidArgument {
			t.Errorf("CreateInvitations with both csv and invitations = %v, want InvalidArgument", err)
		}

		// A full CSV in one call.
		var b strings.Builder
		b.WriteString("handle,team\r\n")
		for i := range identity.MaxInvitationsPerCall {
			fmt.Fprintf(&b, "p%04d@example.com,t%d\r\n", i, i%7)
		}
		full, err := e.admin.CreateInvitations(as(ctx, "", dev), &adminv1.CreateInvitationsRequest{AppId: app, Csv: b.String()})
		if err != nil || len(full.GetInvitations()) != identity.MaxInvitationsPerCall {
			t.Fatalf("CreateInvitations of %d CSV rows = %d invitations, %v", identity.MaxInvitationsPerCall, len(full.GetInvitations()), err)
		}
		pending := 0
		for token := ""; ; {
			page, err := e.admin.ListInvitations(as(ctx, "", dev), &adminv1.ListInvitationsRequest{AppId: app, PageSize: 500, PageToken: token,
				State: adminv1.InvitationState_INVITATION_STATE_PENDING})
			if err != nil {
				t.Fatal(err)
			}
			pending += len(page.GetInvitations())
			if token = page.GetNextPageToken(); token == "" {
				break
			}
		}
		// ann's and the full CSV's; cy and dee were never invited.
		if want := identity.MaxInvitationsPerCall + 1; pending != want {
			t.Errorf("pending invitations = %d, want %d", pending, want)
		}
	})
}
