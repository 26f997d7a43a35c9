package keys_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/token"
	"github.com/cosync/cosync-auth/internal/vaulttest"
)

// BenchmarkMintConcurrent mints tokens from many goroutines at once (16 per
// CPU, as a login burst would) with each signer, and reports tokens/s:
// the local signer, Transit one request per token, and Transit batched.
func BenchmarkMintConcurrent(b *testing.B) {
	// One Vault for every run of every sub-benchmark (they run several times).
	var srv *vaulttest.Server
	if _, ok := vaulttest.Available(); ok {
		srv = vaulttest.Start(b)
		// Production Vaults log every request to an audit device; so does this one.
		if err := srv.Client(b).Sys().EnableAuditWithOptions("file", &api.EnableAuditOptions{
			Type: "file", Options: map[string]string{"file_path": filepath.Join(b.TempDir(), "audit.log")},
		}); err != nil {
			b.Fatal(err)
		}
	}
	vaultSigner := func(b *testing.B, cfg keys.VaultConfig) keys.Signer {
		if srv == nil {
			vaulttest.Binary(b) // skips, or fails under CI=true
		}
		v, _ := vaultClient(b, srv)
		return keys.NewVaultSigner(v, cfg)
	}
	for _, bc := range []struct {
		name   string
		signer func(b *testing.B) keys.Signer
	}{
		{"local", func(b *testing.B) keys.Signer { return keys.NewLocalSigner(newBox(b)) }},
		{"vault-unbatched", func(b *testing.B) keys.Signer { return vaultSigner(b, keys.VaultConfig{BatchWindow: -1}) }},
		{"vault-batched", func(b *testing.B) keys.Signer { return vaultSigner(b, keys.VaultConfig{}) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			signer := bc.signer(b)
			rec, err := signer.Generate(ctx, "bench-"+bc.name)
			if err != nil {
				b.Fatal(err)
			}
			st := newMemStore()
			st.Put(rec)
			iss := token.NewIssuer(keys.NewKeyring(st, signer, keys.KeyringConfig{}, nil))
			c := claims(time.Now())
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := iss.Mint(ctx, rec.AppID, c); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
