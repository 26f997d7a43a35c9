package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// Pending signups are listed newest first with a cursor, without decoys,
// other purposes or other apps; a renewal replaces hash, attempts and
// dates, keeps the id, and never revives a spent or replaced code.
func TestPendingSignupCodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createApp(t, s, "app2")
		for _, c := range []identity.Code{newCode("s1", "a@example.com"), newCode("s2", "b@example.com"), newCode("s3", "c@example.com")} {
			noErr(t, "PutCode", s.PutCode(ctx, c))
		}
		decoy := newCode("s4", "d@example.com")
		decoy.Hash, decoy.Payload = "", nil
		reset := newCode("s5", "a@example.com")
		reset.Purpose = identity.PurposeReset
		other := newCode("s6", "a@example.com")
		other.AppID = "app2"
		for _, c := range []identity.Code{decoy, reset, other} {
			noErr(t, "PutCode", s.PutCode(ctx, c))
		}
		ids := func(cs []identity.Code) []string {
			var out []string
			for _, c := range cs {
				out = append(out, c.ID)
			}
			return out
		}
		for _, tc := range []struct {
			name, app, after string
			limit            int
			want             []string
		}{
			{"first page", "app1", "", 2, []string{"s3", "s2"}},
			{"next page", "app1", "s2", 2, []string{"s1"}},
			{"all", "app1", "", 0, []string{"s3", "s2", "s1"}},
			{"other app", "app2", "", 0, []string{"s6"}},
			{"unknown app", "nope", "", 0, nil},
		} {
			got, err := s.ListCodes(ctx, tc.app, identity.PurposeSignup, tc.after, tc.limit)
			noErr(t, "ListCodes "+tc.name, err)
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("ListCodes(%s) = %v, want %v", tc.name, ids(got), tc.want)
			}
		}

		got, err := s.GetCode(ctx, "app1", "s2")
		noErr(t, "GetCode", err)
		equal(t, "GetCode", got, newCode("s2", "b@example.com"))
		_, err = s.GetCode(ctx, "app2", "s2")
		wantKind(t, "GetCode(other app)", err, apperr.NotFound)

		_, err = s.SpendCodeAttempt(ctx, "app1", "s2", 5)
		noErr(t, "SpendCodeAttempt", err)
		fresh := identity.Code{ID: "ignored", Hash: "fresh-hash", CreatedAt: t0.Add(time.Hour), ExpiresAt: t0.Add(25 * time.Hour)}
		for _, tc := range []struct {
			name, app, id string
			want          bool
		}{{"other app", "app2", "s2", false}, {"live code", "app1", "s2", true}, {"unknown id", "app1", "nope", false}} {
			ok, err := s.RenewCode(ctx, tc.app, tc.id, fresh)
			noErr(t, "RenewCode "+tc.name, err)
			if ok != tc.want {
				t.Errorf("RenewCode(%s) = %v, want %v", tc.name, ok, tc.want)
			}
		}
		want := newCode("s2", "b@example.com")
		want.Hash, want.CreatedAt, want.ExpiresAt = "fresh-hash", fresh.CreatedAt, fresh.ExpiresAt
		got, err = s.FindCode(ctx, "app1", identity.PurposeSignup, "b@example.com")
		noErr(t, "FindCode after RenewCode", err)
		equal(t, "FindCode after RenewCode", got, want)

		// A code used up, or replaced by a new SignUp, is not renewed.
		if ok, err := s.ConsumeCode(ctx, "app1", "s1"); err != nil || !ok {
			t.Fatalf("ConsumeCode(s1) = %v, %v", ok, err)
		}
		noErr(t, "PutCode(replacement)", s.PutCode(ctx, newCode("s8", "c@example.com")))
		for _, id := range []string{"s1", "s3"} {
			renewed, err := s.RenewCode(ctx, "app1", id, fresh)
			noErr(t, "RenewCode "+id, err)
			if renewed {
				t.Errorf("RenewCode(%s, gone) = %v, want false", id, renewed)
			}
		}
	})
}
