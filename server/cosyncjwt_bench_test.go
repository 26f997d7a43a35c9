package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/cosyncjwt"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// BenchmarkCosyncJWTImport100k imports an export of 100,000 users into a
// fresh app per iteration, on SQLite and (with COSYNC_TEST_POSTGRES_URL)
// Postgres. Not part of make test: run it with
//
//	go test -run '^$' -bench CosyncJWTImport100k -benchtime 1x ./server
//
// Every row carries the same bcrypt hash: hashes are checked at login, not
// at import, so making 100,000 of them would only time bcrypt.
func BenchmarkCosyncJWTImport100k(b *testing.B) {
	const n = 100_000
	var csv strings.Builder
	csv.WriteString(userHeader)
	hash := bcryptMD5(b, "Old pass 1")
	for i := range n {
		fmt.Fprintf(&csv, "user%d@example.com,%s,active,app1,false,false,,,,false,,\"{\"\"n\"\":%d}\",%s,EN,%s,%s\n", i, hash, i, jsDate, jsDate, jsDate)
	}
	ex, err := cosyncjwt.ReadExport(strings.NewReader(csv.String()))
	if err != nil || len(ex.Users) != n {
		b.Fatalf("ReadExport = %d users, %v", len(ex.Users), err)
	}
	stores := map[string]func(testing.TB) *store.Store{"sqlite": storetest.SQLite}
	if os.Getenv("COSYNC_TEST_POSTGRES_URL") != "" {
		stores["postgres"] = storetest.Postgres
	}
	for name, open := range stores {
		b.Run(name, func(b *testing.B) {
			st := open(b)
			ctx := context.Background()
			settings := identity.DefaultSettings()
			settings.CosyncJWT.MD5PrehashedPasswords = true
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				id := fmt.Sprintf("bench%d", i)
				now := time.Now().UTC()
				if err := st.CreateApp(ctx, identity.App{ID: id, Name: id, Settings: settings, CreatedAt: now, UpdatedAt: now}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				rep, err := cosyncjwt.Import(ctx, st, id, ex, false, time.Now)
				if err != nil || rep.Imported != n {
					b.Fatalf("Import = %d imported, %v", rep.Imported, err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "users/s")
		})
	}
}
