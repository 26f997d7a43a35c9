package main

import (
	"context"
	"database/sql"
	"fmt"
	neturl "net/url"
	"os"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/cosync/cosync-auth/internal/console"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// statsBenchEvents is a day of the benchmark app's audit log: about 12,000
// events, 4.4 million over the year.
var statsBenchEvents = []struct {
	action, outcome string
	perDay          int
}{
	{"session.refresh", "success", 6000},
	{"user.login", "success", 4000},
	{"user.login", "failure", 400},
	{"user.login.social", "success", 600},
	{"user.signup.start", "success", 300},
	{"user.signup.complete", "success", 200},
	{"invite.create", "success", 80},
	{"user.register", "success", 40},
	{"user.2fa.enable", "success", 30},
	{"user.2fa.disable", "success", 5},
	{"user.anonymous.create", "success", 100},
	{"user.metadata.update", "success", 500}, // counted by nothing: the queries must skip it
}

// BenchmarkStats90Days times GetStats over 90 days on Postgres for an app
// with 1,000,000 users and a year of events, rolled up as the janitor
// does. It seeds with set-based SQL (generate_series), which takes a few
// minutes, so it runs only when COSYNC_BENCH_STATS is set (make bench):
//
//	COSYNC_BENCH_STATS=1 go test -run '^$' -bench Stats90Days -benchtime 20x ./server
func BenchmarkStats90Days(b *testing.B) {
	if os.Getenv("COSYNC_BENCH_STATS") == "" {
		b.Skip("set COSYNC_BENCH_STATS=1 (make bench does) to seed 1,000,000 users and a year of events")
	}
	ctx := context.Background()
	url := storetest.EmptyPostgres(b)
	st, err := store.Open(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	raw, err := neturl.Parse(url)
	if err != nil {
		b.Fatal(err)
	}
	q := raw.Query()
	q.Del("pool_max_conns") // the store's own parameters, not the server's
	q.Del("pool_max_idle_time")
	raw.RawQuery = q.Encode()
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(raw.String()), pgdriver.WithReadTimeout(30*time.Minute), pgdriver.WithWriteTimeout(30*time.Minute)))
	b.Cleanup(func() { db.Close() })

	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	const app, users = "bench", 1_000_000
	if err := st.CreateApp(ctx, identity.App{ID: app, Name: "Bench", Settings: identity.DefaultSettings(), CreatedAt: now.AddDate(-2, 0, 0), UpdatedAt: now}); err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	exec := func(what, q string, args ...any) {
		b.Helper()
		t := time.Now()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("seeding %s: %v", what, err)
		}
		b.Logf("seeded %s in %v", what, time.Since(t).Round(time.Millisecond))
	}
	// Users over two years: a fifth with an authenticator, a twentieth
	// anonymous, a tenth with Google.
	exec("users", `INSERT INTO users (id, app_id, email, status, two_factor, anonymous, password_hash, locale, created_at, updated_at)
		SELECT 'u' || g, $1, CASE WHEN g % 20 = 0 THEN NULL ELSE 'user' || g || '@example.com' END, 'active',
			CASE WHEN g % 5 = 0 THEN 'totp' ELSE 'none' END, g % 20 = 0,
			CASE WHEN g % 20 = 0 THEN NULL ELSE '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo' END, 'en',
			$2::timestamptz - (($3 - g) * interval '63 seconds'), $2::timestamptz
		FROM generate_series(1, $3) AS g`, app, now, users)
	exec("identities", `INSERT INTO user_identities (id, app_id, user_id, provider, subject, created_at)
		SELECT 'i' || g, $1, 'u' || g, 'google', 'g' || g, $2::timestamptz - (($3 - g) * interval '63 seconds')
		FROM generate_series(1, $3) AS g WHERE g % 10 = 1`, app, now, users)
	// A year of events, spread over each day, by random users. As for any
	// bulk load, the table's secondary indexes are dropped first and built
	// again after, the same as the migrations made them.
	var indexes, names []string
	rows, err := db.QueryContext(ctx, `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_events' AND indexname <> 'audit_events_pkey'`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			b.Fatal(err)
		}
		indexes, names = append(indexes, def), append(names, name)
	}
	if err := rows.Close(); err != nil {
		b.Fatal(err)
	}
	for _, name := range names {
		exec("dropping "+name, `DROP INDEX `+name)
	}
	for i, ev := range statsBenchEvents {
		actor := "'u' || (1 + floor(random() * " + fmt.Sprint(users) + "))::int"
		if ev.outcome == "failure" {
			actor = "''"
		}
		exec(ev.action+" "+ev.outcome, `INSERT INTO audit_events (id, app_id, action, outcome, actor_id, subject_id, ip, occurred_at)
			SELECT 'e`+fmt.Sprint(i)+`-' || g, $1, $2, $3, `+actor+`, 'u' || (1 + g % $6), '10.0.' || (g % 250) || '.' || (g % 200),
				$4::timestamptz - ((g % 365) + 1) * interval '1 day' + (g::bigint * 7919 % 86400) * interval '1 second'
			FROM generate_series(1, $5) AS g`, app, ev.action, ev.outcome, today, ev.perDay*365, users)
	}
	for _, def := range indexes {
		exec(def, def)
	}
	exec("analyze", `VACUUM ANALYZE`)
	b.Logf("seeded in %v", time.Since(began).Round(time.Second))

	con := console.New(console.Deps{Store: st.Console(), Now: func() time.Time { return now }})
	t := time.Now()
	days, err := con.RollupStats(ctx)
	if err != nil {
		b.Fatalf("RollupStats = %v", err)
	}
	b.Logf("first rollup: %d days in %v", days, time.Since(t).Round(time.Millisecond))
	// A few events today, for the open day.
	exec("today", `INSERT INTO audit_events (id, app_id, action, outcome, actor_id, subject_id, ip, occurred_at)
		SELECT 'today-' || g, $1, 'user.login', 'success', 'u' || g, 'u' || g, '10.1.0.1', $2::timestamptz + g * interval '1 second'
		FROM generate_series(1, 5000) AS g`, app, today)

	op := identity.Developer{ID: "operator", Operator: true}
	start, end := today.AddDate(0, 0, -89).Format(console.DateLayout), today.Format(console.DateLayout)
	// A sub-benchmark, so the seeding above runs once while the testing
	// package grows b.N.
	b.Run("GetStats", func(b *testing.B) {
		var rep console.StatsReport
		for range b.N {
			if rep, err = con.GetStats(ctx, op, app, start, end); err != nil {
				b.Fatalf("GetStats = %v", err)
			}
		}
		b.StopTimer()
		if len(rep.Days) != 90 || rep.Totals.Logins == 0 || rep.Days[89].Logins != 5000 || rep.Totals.Users != users {
			b.Fatalf("GetStats = %d days, %d logins (today %d), %d users; want 90 days of logins, 5000 today, %d users",
				len(rep.Days), rep.Totals.Logins, rep.Days[len(rep.Days)-1].Logins, rep.Totals.Users, users)
		}
		b.Logf("90 days: %d logins, %d distinct active users (estimated), %d users, %d with a second factor, by provider %v",
			rep.Totals.Logins, rep.Totals.ActiveUsers, rep.Totals.Users, rep.Totals.TwoFactorUsers, rep.UsersByProvider)
	})
	// Where the time goes: the open day alone, and reading the rolled rows.
	b.Run("OpenDayOnly", func(b *testing.B) {
		for range b.N {
			if _, err := con.GetStats(ctx, op, app, end, end); err != nil {
				b.Fatalf("GetStats(today) = %v", err)
			}
		}
	})
	b.Run("Read89RolledDays", func(b *testing.B) {
		for range b.N {
			rows, err := st.Console().DailyStats(ctx, app, today.AddDate(0, 0, -89), today.AddDate(0, 0, -1))
			if err != nil || len(rows) != 89 {
				b.Fatalf("DailyStats = %d rows, %v", len(rows), err)
			}
		}
	})
}
