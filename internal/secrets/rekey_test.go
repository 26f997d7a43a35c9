package secrets_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/cosync/cosync-auth/internal/secrets"
)

// TestChainAndRekey moves values from one master key to another without Vault:
// the chain reads both, Rekey leaves only the new one needed.
func TestChainAndRekey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	oldBox, newBox := localBox(t), localBox(t)
	col := &memColumn{rows: map[string][]byte{}}
	for _, ref := range []string{"a", "b", "c"} {
		col.rows[ref], _ = oldBox.Seal(ctx, []byte("secret "+ref), []byte("row:"+ref))
	}
	if secrets.Chain(newBox) != secrets.Box(newBox) {
		t.Errorf("Chain of one box is not that box")
	}
	chain := secrets.Chain(newBox, oldBox)
	if got, err := chain.Open(ctx, col.rows["a"], []byte("row:a")); err != nil || string(got) != "secret a" {
		t.Fatalf("chain.Open(old) = %q, %v", got, err)
	}
	if _, err := chain.Open(ctx, col.rows["a"], []byte("row:b")); !errors.Is(err, secrets.ErrDecrypt) {
		t.Errorf("chain.Open(wrong row) = %v, want ErrDecrypt", err)
	}
	sealed, _ := chain.Seal(ctx, []byte("x"), []byte("ad"))
	if _, err := oldBox.Open(ctx, sealed, []byte("ad")); !errors.Is(err, secrets.ErrDecrypt) {
		t.Errorf("chain.Seal used the old box")
	}

	res, err := secrets.Rekey(ctx, chain, newBox, []secrets.Column{col.column()})
	if err != nil || len(res) != 1 || res[0].Resealed != 3 || res[0].Column != "mem" {
		t.Fatalf("Rekey = %+v, %v; want 3 resealed in mem", res, err)
	}
	for ref, ct := range col.rows {
		if got, err := newBox.Open(ctx, ct, []byte("row:"+ref)); err != nil || string(got) != "secret "+ref {
			t.Errorf("row %s after Rekey = %q, %v", ref, got, err)
		}
	}
	col.rows["b"] = []byte("garbage")
	if _, err := secrets.Rekey(ctx, chain, newBox, []secrets.Column{col.column()}); err == nil || !strings.Contains(err.Error(), "row b") {
		t.Errorf("Rekey(unreadable row) = %v, want an error naming row b", err)
	}
}

func localBox(tb testing.TB) *secrets.Local {
	tb.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	l, err := secrets.NewLocal(key)
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// memColumn is a secrets.Column over a map, for Rekey.
type memColumn struct {
	mu   sync.Mutex
	rows map[string][]byte // ref → ciphertext
}

func (m *memColumn) column() secrets.Column {
	return secrets.Column{
		Name: "mem",
		Page: func(_ context.Context, after string, limit int) ([]secrets.Sealed, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			var out []secrets.Sealed
			for _, ref := range []string{"a", "b", "c"} {
				if ct, ok := m.rows[ref]; ok && ref > after && len(out) < limit {
					out = append(out, secrets.Sealed{Ref: ref, Ciphertext: ct, Associated: []byte("row:" + ref)})
				}
			}
			return out, nil
		},
		Replace: func(_ context.Context, s secrets.Sealed, ct []byte) (bool, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			if !bytes.Equal(m.rows[s.Ref], s.Ciphertext) {
				return false, nil
			}
			m.rows[s.Ref] = ct
			return true, nil
		},
	}
}
