package gen

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// boundOf names the bound a scenario is measured against: the hash for
// password logins and signups, the signature for refreshes.
func boundOf(scenario string, b Bounds) (string, float64) {
	switch scenario {
	case "login", "signup":
		return b.Hash, b.HashesPerSecond
	case "refresh":
		return "RSA-2048", b.RSAPerSecond
	}
	return "", 0
}

// Report writes one table of results under title, with each scenario's
// rate as a share of its bound.
func Report(w io.Writer, title string, workers int, results []Result, b Bounds) {
	fmt.Fprintf(w, "\n## %s (%d workers)\n", title, workers)
	fmt.Fprintf(w, "machine bound, same run: %s %.1f hashes/s, RSA-2048 %.0f signatures/s (all cores)\n\n", b.Hash, b.HashesPerSecond, b.RSAPerSecond)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\treq/s\tp50\tp99\terrors\tserver CPU/req\tdatabase CPU/req\tloadgen CPU/req\tpeak RSS\tof bound\t")
	for _, r := range results {
		share := "—"
		if name, bound := boundOf(r.Scenario, b); bound > 0 {
			share = fmt.Sprintf("%.2f of %s", r.PerSecond()/bound, name)
		}
		cpu, dbCPU, clientCPU, rss := "—", "—", "—", "—"
		if r.CPUPerRequest > 0 {
			cpu = fmt.Sprintf("%.3f ms", float64(r.CPUPerRequest)/float64(time.Millisecond))
		}
		if r.DBCPUPerRequest > 0 {
			dbCPU = fmt.Sprintf("%.3f ms", float64(r.DBCPUPerRequest)/float64(time.Millisecond))
		}
		if r.ClientCPUPerRequest > 0 {
			clientCPU = fmt.Sprintf("%.3f ms", float64(r.ClientCPUPerRequest)/float64(time.Millisecond))
		}
		if r.PeakRSS > 0 {
			rss = fmt.Sprintf("%d MiB", r.PeakRSS>>20)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", r.Scenario, r.PerSecond(), ms(r.P50), ms(r.P99), r.Errors, cpu, dbCPU, clientCPU, rss, share)
	}
	tw.Flush()
	for _, r := range results {
		if r.FirstError != "" {
			fmt.Fprintf(w, "%s: first error: %s\n", r.Scenario, r.FirstError)
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
