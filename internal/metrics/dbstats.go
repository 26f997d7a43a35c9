package metrics

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"
)

// dbStatsCollector exports database/sql's pool statistics under the names
// client_golang's collectors.NewDBStatsCollector uses (go_sql_*), read
// through a function so the store keeps its *sql.DB to itself.
type dbStatsCollector struct {
	stats func() sql.DBStats
	descs [9]*prometheus.Desc
}

func newDBStatsCollector(stats func() sql.DBStats, name string) *dbStatsCollector {
	l := prometheus.Labels{"db_name": name}
	d := func(n, help string) *prometheus.Desc { return prometheus.NewDesc("go_sql_"+n, help, nil, l) }
	return &dbStatsCollector{stats: stats, descs: [9]*prometheus.Desc{
		d("max_open_connections", "Maximum number of open connections to the database."),
		d("open_connections", "The number of established connections both in use and idle."),
		d("in_use_connections", "The number of connections currently in use."),
		d("idle_connections", "The number of idle connections."),
		d("wait_count_total", "The total number of connections waited for."),
		d("wait_duration_seconds_total", "The total time blocked waiting for a new connection."),
		d("max_idle_closed_total", "The total number of connections closed due to SetMaxIdleConns."),
		d("max_idle_time_closed_total", "The total number of connections closed due to SetConnMaxIdleTime."),
		d("max_lifetime_closed_total", "The total number of connections closed due to SetConnMaxLifetime."),
	}}
}

func (c *dbStatsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *dbStatsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	g, k := prometheus.GaugeValue, prometheus.CounterValue
	for i, v := range []struct {
		t prometheus.ValueType
		v float64
	}{
		{g, float64(s.MaxOpenConnections)}, {g, float64(s.OpenConnections)}, {g, float64(s.InUse)}, {g, float64(s.Idle)},
		{k, float64(s.WaitCount)}, {k, s.WaitDuration.Seconds()}, {k, float64(s.MaxIdleClosed)},
		{k, float64(s.MaxIdleTimeClosed)}, {k, float64(s.MaxLifetimeClosed)},
	} {
		ch <- prometheus.MustNewConstMetric(c.descs[i], v.t, v.v)
	}
}
