package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/crypto/bcrypt"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/cosyncjwt"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
)

const userHeader = "handle,password,status,appId,twoFactorPhoneVerification,twoFactorGoogleVerification,googleSecretKey,twoFactorCode,phone,phoneVerified,phoneCode,metaData,lastLogin,locale,createdAt,updatedAt\n"

// jsDate is a date as the export writes it (JavaScript's Date.toString).
const jsDate = "Tue Jul 02 2024 10:00:00 GMT+0000 (Coordinated Universal Time)"

// bcryptMD5 is how CosyncJWT kept a password: bcrypt of its MD5 hex.
func bcryptMD5(tb testing.TB, pw string) string {
	tb.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(md5hex(pw)), bcrypt.MinCost)
	if err != nil {
		tb.Fatal(err)
	}
	return string(h)
}

// exportZip builds a CosyncJWT export as csv-writer writes its cells.
func exportZip(tb testing.TB) []byte {
	tb.Helper()
	users := userHeader +
		"old+user@example.com," + bcryptMD5(tb, "Old pass 1") + ",active,app1,false,false,,,+14155550125,true,,\"{\"\"user_data\"\":{\"\"name\"\":{\"\"first\"\":\"\"Olga\"\"}}}\"," + jsDate + ",EN," + jsDate + "," + jsDate + "\n" +
		"two@example.com," + bcryptMD5(tb, "Two pass 2") + ",active,app1,true,false,,,+14155550126,true,,[object Object]," + jsDate + ",EN," + jsDate + "," + jsDate + "\n" +
		"gone@example.com," + bcryptMD5(tb, "Gone pass 3") + ",suspended,app1,false,true,SECRET,,,false,,,,,,\n" +
		"ANON_abc,,active,app1,false,false,,,,false,,,,,,\n" +
		"not-an-email,,active,app1,false,false,,,,false,,,,,,\n" +
		"OLD+user@example.com,,active,app1,false,false,,,,false,,,,,,\n"
	return zipOf(tb, map[string]string{
		"app1/user-collection.csv":   users,
		"app1/signup-collection.csv": "handle,password,status,appId,code,locale,metaData,createdAt,updatedAt\npending@example.com,x,pending,app1,123456,EN,,,\ndone@example.com,x,verified,app1,1,EN,,,\n",
		"app1/invite-collection.csv": "handle,senderHandle,senderUserId,code,status,appId,metaData,createdAt,updatedAt\ninvited@example.com,old+user@example.com,u1,654321,pending,app1,,,\n",
		"app1/app-collection.csv":    "appId,name,appToken\napp1,Legacy," + cjwtAppToken + "\n",
	})
}

// TestCosyncJWTImport: a dry run writes nothing; the import creates the
// users with their old bcrypt(MD5) hashes, sets the app token from the
// export, and reports every skip; a second run changes nothing; an
// imported user signs in through the facade with the old password, which
// rehashes it, and then through Connect.
func TestCosyncJWTImport(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.cjwtApp(t, dev, authv1.SignupFlow_SIGNUP_FLOW_CODE)
		e.update(t, dev, app, &adminv1.AppSettings{}, "settings.cosyncjwt_app_token") // the import sets it
		ex, err := cosyncjwt.ReadExport(bytes.NewReader(exportZip(t)))
		if err != nil {
			t.Fatalf("ReadExport = %v", err)
		}

		dry, err := cosyncjwt.Import(ctx, e.p.store, app, ex, true, e.clock.Now)
		if err != nil || dry.Imported != 3 || dry.AppTokenSet {
			t.Fatalf("Import(dry) = %+v, %v; want 3 users and nothing set", dry, err)
		}
		if _, err := e.p.store.FindUserByEmail(ctx, app, "old+user@example.com"); err == nil {
			t.Fatalf("a dry run created a user")
		}

		rep, err := cosyncjwt.Import(ctx, e.p.store, app, ex, false, e.clock.Now)
		if err != nil || rep.Imported != 3 || !rep.AppTokenSet {
			t.Fatalf("Import = %+v, %v; want 3 users and the app token set", rep, err)
		}
		want := map[string]string{
			"ANON_abc": cosyncjwt.SkipAnonymous, "not-an-email": cosyncjwt.SkipNotEmail, "OLD+user@example.com": cosyncjwt.SkipDuplicate,
			"pending@example.com": cosyncjwt.SkipPendingSignup, "invited@example.com": cosyncjwt.SkipOpenInvite,
		}
		if got := rowsByHandle(rep.Skipped); !equalMaps(got, want) {
			t.Errorf("Import skipped %v, want %v", got, want)
		}
		wantNotes := []string{"two@example.com " + cosyncjwt.NoteMetadataLost, "gone@example.com " + cosyncjwt.NoteTOTPDropped}
		for _, n := range wantNotes {
			if !strings.Contains(fmt.Sprint(rep.Notes), strings.Split(n, " ")[1]) {
				t.Errorf("Import notes %v, want %s", rep.Notes, n)
			}
		}

		again, err := cosyncjwt.Import(ctx, e.p.store, app, ex, false, e.clock.Now)
		if err != nil || again.Imported != 0 || again.AppTokenSet {
			t.Fatalf("Import again = %+v, %v; want nothing imported", again, err)
		}
		if got := rowsByHandle(again.Skipped); got["old+user@example.com"] != cosyncjwt.SkipExists || got["two@example.com"] != cosyncjwt.SkipExists {
			t.Errorf("Import again skipped %v, want exists for each imported user", got)
		}

		u, err := e.p.store.FindUserByEmail(ctx, app, "two@example.com")
		if err != nil || u.TwoFactor != identity.TwoFactorSMS || u.Phone != "+14155550126" || !u.PhoneVerified {
			t.Errorf("imported two@example.com = %+v, %v; want SMS second factor on a verified phone", u, err)
		}
		if g, _ := e.p.store.FindUserByEmail(ctx, app, "gone@example.com"); g.Status != identity.UserSuspended {
			t.Errorf("imported gone@example.com status = %q, want suspended", g.Status)
		}

		// The old password through the facade (the app token came from the export).
		const A, U = "app-token", "access-token"
		e.swift(t, "api/appuser/login", A, cjwtAppToken, "handle=old%2Buser@example.com&password="+md5hex("wrong")).wantError(t, "login with a wrong password", 600)
		_, access := e.swift(t, "api/appuser/login", A, cjwtAppToken, "handle=old%2Buser@example.com&password="+md5hex("Old pass 1")).wantSession(t, "first login of an imported user")
		m := e.swiftGet(t, "api/appuser/getUser", U, access).json(t)
		if md, _ := m["metaData"].(map[string]any); md == nil || !strings.Contains(string(mustJSON(t, md)), "Olga") {
			t.Errorf("imported getUser = %v, want the exported metadata", m)
		}
		hash, err := e.p.store.PasswordHash(ctx, app, mustUser(t, e.p.store, app, "old+user@example.com").ID)
		if err != nil || !strings.HasPrefix(hash, "$argon2id$") {
			t.Errorf("hash after the first login = %.12q…, %v; want argon2id", hash, err)
		}
		// And through Connect, with the plain password.
		e.login(t, app, "old+user@example.com", "Old pass 1")
	})
}

// TestCLIImportCosyncJWT drives `cosync-auth import cosyncjwt` against the
// default SQLite database.
func TestCLIImportCosyncJWT(t *testing.T) {
	cliEnv(t)
	cfg, err := config.Load(flag.NewFlagSet("test", flag.ContinueOnError), nil, config.Environ)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.DatabaseURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	settings := identity.DefaultSettings()
	settings.CosyncJWT.MD5PrehashedPasswords = true
	now := time.Now().UTC()
	if err := st.CreateApp(ctx, identity.App{ID: "legacy", Name: "Legacy", Settings: settings, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	file := filepath.Join(t.TempDir(), "export.zip")
	if err := os.WriteFile(file, exportZip(t), 0o600); err != nil {
		t.Fatal(err)
	}

	out, stderr, err := runCLI(t, "import", "cosyncjwt", "--app", "legacy", "--dry-run", file)
	// The counts of skips depend on whether the command carries over what
	// was in flight (TestCosyncJWTImportInFlight checks that): only the
	// users are fixed here.
	if err != nil || !strings.HasPrefix(out, "would import 3 users; skipped ") || !strings.Contains(out, "ANON_abc\tanonymous") {
		t.Fatalf("import --dry-run = %q, %v; log:\n%s", out, err, stderr)
	}
	out, stderr, err = runCLI(t, "import", "cosyncjwt", "--app", "legacy", file)
	if err != nil || !strings.HasPrefix(out, "imported 3 users; skipped ") || !strings.Contains(out, "pending@example.com\t") {
		t.Fatalf("import = %q, %v; log:\n%s", out, err, stderr)
	}
	out, _, err = runCLI(t, "import", "cosyncjwt", "--app", "legacy", file)
	if err != nil || !strings.HasPrefix(out, "imported 0 users; skipped ") || !strings.Contains(out, "old+user@example.com\texists") {
		t.Fatalf("import again = %q, %v", out, err)
	}
	if _, _, err := runCLI(t, "import", "cosyncjwt", file); err == nil {
		t.Errorf("import without --app = nil error, want usage")
	}
}

func rowsByHandle(rows []cosyncjwt.ImportRow) map[string]string {
	m := map[string]string{}
	for _, r := range rows {
		m[r.Handle] = r.Reason
	}
	return m
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func mustUser(tb testing.TB, st *store.Store, app, email string) identity.User {
	tb.Helper()
	u, err := st.FindUserByEmail(context.Background(), app, email)
	if err != nil {
		tb.Fatalf("FindUserByEmail(%q) = %v", email, err)
	}
	return u
}

// TestCosyncJWTImportRPC: the portal's way in, AdminService.ImportCosyncJwtUsers.
func TestCosyncJWTImportRPC(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	dev := e.developer(t, "dev@example.com")
	app := e.cjwtApp(t, dev, authv1.SignupFlow_SIGNUP_FLOW_CODE)
	ctx := as(context.Background(), "", dev)
	req := &adminv1.ImportCosyncJwtUsersRequest{AppId: app, Export: exportZip(t), DryRun: true}
	res, err := e.admin.ImportCosyncJwtUsers(ctx, req)
	if err != nil || !res.GetDryRun() || res.GetImported() != 3 || len(res.GetSkipped()) < 3 {
		t.Fatalf("ImportCosyncJwtUsers(dry) = %v, %v; want 3 imported and the anonymous, bad and duplicate rows skipped", res, err)
	}
	req.DryRun = false
	if res, err = e.admin.ImportCosyncJwtUsers(ctx, req); err != nil || res.GetImported() != 3 {
		t.Fatalf("ImportCosyncJwtUsers = %v, %v; want 3 imported", res, err)
	}
	// The audit log names who imported, and from where.
	me, err := e.admin.GetCaller(ctx, &adminv1.GetCallerRequest{})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := e.admin.ListAuditEvents(ctx, &adminv1.ListAuditEventsRequest{AppId: app, Action: "user.import"})
	if err != nil || len(ev.GetEvents()) != 1 || ev.GetEvents()[0].GetActorId() != me.GetDeveloperId() || ev.GetEvents()[0].GetIp() == "" {
		t.Errorf("user.import audit events = %v, %v; want one naming developer %s and an IP", ev, err, me.GetDeveloperId())
	}
	_, err = e.admin.ImportCosyncJwtUsers(ctx, &adminv1.ImportCosyncJwtUsersRequest{AppId: app, Export: []byte("not,a,user,export\n")})
	wantReason(t, "ImportCosyncJwtUsers(garbage)", err, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "export")
	other := e.developer(t, "other@example.com")
	_, err = e.admin.ImportCosyncJwtUsers(as(context.Background(), "", other), req)
	wantReason(t, "ImportCosyncJwtUsers by a non-member", err, connect.CodeNotFound, apperr.ReasonAppNotFound)
}
