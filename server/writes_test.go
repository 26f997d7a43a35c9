package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// statementLog keeps the shape ("INSERT sessions") of each statement a
// store runs.
type statementLog struct {
	mu     sync.Mutex
	shapes []string
}

var (
	stmtVerb  = regexp.MustCompile(`^\s*(\w+)`)
	stmtTable = regexp.MustCompile(`(?i)\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?`)
	// stmtModifies finds a write inside a WITH.
	stmtModifies = regexp.MustCompile(`(?i)\b(UPDATE\s+"?\w+"?\s+SET|INSERT\s+INTO|DELETE\s+FROM)\b`)
)

func (l *statementLog) observe(q string) {
	shape := strings.TrimSpace(strings.ToUpper(stmtVerb.FindString(q)))
	if shape == "WITH" && stmtModifies.MatchString(q) {
		shape = "WITH-WRITE" // a data-modifying WITH: one statement, one round trip
	}
	if m := stmtTable.FindStringSubmatch(q); m != nil {
		shape += " " + m[1]
	}
	l.mu.Lock()
	l.shapes = append(l.shapes, strings.TrimSpace(shape))
	l.mu.Unlock()
}

// take returns the writes (INSERT, UPDATE, DELETE, a WITH that modifies)
// and all statements since
// the last take. The send queue's worker runs beside the requests: its
// statements (claiming and settling deliveries, the dev outbox's inserts)
// are left out, since they are the cost of sending, counted apart.
func (l *statementLog) take() (writes []string, statements int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.shapes {
		if s == "UPDATE deliveries" || s == "INSERT outbox_messages" || s == "SELECT deliveries" || strings.HasPrefix(s, "SELECT outbox") {
			continue
		}
		statements++
		if v, _, _ := strings.Cut(s, " "); v == "INSERT" || v == "UPDATE" || v == "DELETE" || v == "WITH-WRITE" {
			writes = append(writes, s)
		}
	}
	l.shapes = nil
	return writes, statements
}

// writesTable is docs/production.md's table of Postgres writes per flow;
// TestPostgresWritesPerFlow keeps it equal to what the flows do.
var writesTable = regexp.MustCompile(`(?m)^\| (password login|refresh|GetUser with a bearer|signup, code flow: SignUp|signup, code flow: CompleteSignUp|signup, none flow) \| (\d+) \| (\d+) \|`)

// TestPostgresWritesPerFlow counts, over a real server on Postgres, the
// statements and writes of a password login, a refresh, GetUser with a
// bearer and a signup (both steps of the code flow, and the none flow), and
// checks the numbers docs/production.md gives for sizing the database.
func TestPostgresWritesPerFlow(t *testing.T) {
	st := storetest.Postgres(t)
	l := &statementLog{}
	st.ObserveQueries(l.observe) // before the server starts: hooks are not synchronized
	e := newEnv(t, st)
	dev := e.developer(t, "sizing@example.com")
	app := e.appWithNameField(t, dev)
	ctx := as(context.Background(), app, "")
	md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Ann"}})

	measured := map[string][2]int{}
	measure := func(name string, fn func()) {
		e.flush(t)
		// The steady state: every change so far has reached the cache
		// (the app's own change notice included, which drops it once
		// more), and the app is cached again.
		if err := st.AwaitChanges(t.Context()); err != nil {
			t.Fatalf("AwaitChanges = %v", err)
		}
		if _, err := st.GetApp(t.Context(), app); err != nil {
			t.Fatalf("GetApp = %v", err)
		}
		l.take()
		fn()
		w, n := l.take()
		t.Logf("%s: %d statements, %d writes: %s", name, n, len(w), strings.Join(w, ", "))
		measured[name] = [2]int{n, len(w)}
	}
	measure("signup, code flow: SignUp", func() {
		if _, err := e.auth.SignUp(ctx, &authv1.SignUpRequest{Handle: "ann@example.com", Password: "long-enough-pw", Metadata: md}); err != nil {
			t.Fatalf("SignUp = %v", err)
		}
	})
	code := e.outboxCode(t, dev, app, "ann@example.com")
	measure("signup, code flow: CompleteSignUp", func() {
		if _, err := e.auth.CompleteSignUp(ctx, &authv1.CompleteSignUpRequest{Handle: "ann@example.com", Code: code}); err != nil {
			t.Fatalf("CompleteSignUp = %v", err)
		}
	})
	var refresh, access string
	measure("password login", func() {
		res, err := e.auth.Login(ctx, &authv1.LoginRequest{Handle: "ann@example.com", Password: "long-enough-pw"})
		if err != nil {
			t.Fatalf("Login = %v", err)
		}
		refresh = res.GetSession().GetRefreshToken()
	})
	measure("refresh", func() {
		res, err := e.auth.RefreshSession(ctx, &authv1.RefreshSessionRequest{RefreshToken: refresh})
		if err != nil {
			t.Fatalf("RefreshSession = %v", err)
		}
		access = res.GetSession().GetAccessToken()
	})
	measure("GetUser with a bearer", func() {
		res, err := e.auth.GetUser(as(context.Background(), app, access), &authv1.GetUserRequest{})
		if err != nil || res.GetUser().GetEmail() != "ann@example.com" {
			t.Fatalf("GetUser = %v, %v", res, err)
		}
	})
	e.update(t, dev, app, &adminv1.AppSettings{SignupFlow: authv1.SignupFlow_SIGNUP_FLOW_NONE}, "settings.signup_flow")
	measure("signup, none flow", func() {
		if _, err := e.auth.SignUp(ctx, &authv1.SignUpRequest{Handle: "bob@example.com", Password: "long-enough-pw", Metadata: md}); err != nil {
			t.Fatalf("SignUp(none) = %v", err)
		}
	})

	doc := docSection(t, "docs/production.md", "writes")
	rows := writesTable.FindAllStringSubmatch(doc, -1)
	var want strings.Builder
	for _, name := range []string{"password login", "refresh", "GetUser with a bearer", "signup, code flow: SignUp", "signup, code flow: CompleteSignUp", "signup, none flow"} {
		fmt.Fprintf(&want, "| %s | %d | %d |\n", name, measured[name][0], measured[name][1])
	}
	var got strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&got, "| %s | %s | %s |\n", r[1], r[2], r[3])
	}
	if !slices.Equal(strings.Split(got.String(), "\n"), strings.Split(want.String(), "\n")) {
		t.Errorf("docs/production.md's statements-and-writes table is stale; the flows now do:\n%s", want.String())
	}
}
