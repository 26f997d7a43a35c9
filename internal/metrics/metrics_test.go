package metrics_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cosync/cosync-auth/internal/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape = %d, want 200", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// TestQueueReading: the queue gauge reads the count at scrape time, and a
// failed count leaves only that series out, never failing the scrape.
func TestQueueReading(t *testing.T) {
	t.Parallel()
	var fail bool
	m := metrics.New(metrics.Sources{
		DBStats: func() sql.DBStats { return sql.DBStats{MaxOpenConnections: 8, InUse: 3} }, DBName: "postgres",
		PendingDeliveries: func(ctx context.Context, max int) (int, error) {
			if fail {
				return 0, errors.New("database down")
			}
			if _, ok := ctx.Deadline(); !ok || max <= 0 {
				t.Errorf("PendingDeliveries got no deadline or bound (max %d)", max)
			}
			return 42, nil
		},
		BatchCounts: func(each func(path string, statements, calls int64)) { each("refresh_write", 3, 7) },
		Version:     "v1.2.3",
	})
	body := scrape(t, m)
	for _, want := range []string{"cosync_queue_pending 42", `go_sql_in_use_connections{db_name="postgres"} 3`,
		`go_sql_max_open_connections{db_name="postgres"} 8`, `cosync_build_info{version="v1.2.3"} 1`,
		`cosync_db_batched_statements_total{path="refresh_write"} 3`, `cosync_db_batched_calls_total{path="refresh_write"} 7`} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
	}
	fail = true
	body = scrape(t, m)
	if strings.Contains(body, "cosync_queue_pending ") {
		t.Errorf("scrape with a failed count still shows cosync_queue_pending")
	}
	if !strings.Contains(body, "go_goroutines ") {
		t.Errorf("scrape with a failed count lost the other series")
	}
}

// TestMeter: the identity.Meter methods land in their families by label.
func TestMeter(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Sources{})
	m.Login("password", "success")
	m.Login("password", "success")
	m.Login("social", "locked")
	m.Signup("started")
	m.Send("sms", "dead")
	body := scrape(t, m)
	for _, want := range []string{
		`cosync_logins_total{method="password",outcome="success"} 2`,
		`cosync_logins_total{method="social",outcome="locked"} 1`,
		`cosync_signups_total{stage="started"} 1`,
		`cosync_sends_total{channel="sms",outcome="dead"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(body, "cosync_queue_pending") || strings.Contains(body, "go_sql_") {
		t.Errorf("Metrics without those sources still exports the queue or pool")
	}
}
