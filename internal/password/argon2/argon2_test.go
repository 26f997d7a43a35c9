package argon2

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"

	xargon2 "golang.org/x/crypto/argon2"
)

// TestVectors: RFC 9106's Argon2id test vector (section 5.3), twice, so
// the second runs in the first's used buffer.
func TestVectors(t *testing.T) {
	want, _ := hex.DecodeString("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")
	for i := range 2 {
		got := deriveKey(argon2id, bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16),
			bytes.Repeat([]byte{3}, 8), bytes.Repeat([]byte{4}, 12), 3, 32, 4, 32)
		if !bytes.Equal(got, want) {
			t.Fatalf("run %d: tag %x, want %x", i, got, want)
		}
	}
}

// TestAgreesWithXCrypto: IDKey gives x/crypto's answer for several
// parameter sets, run over and over and at once, so buffers are reused
// dirty and shared between sizes and goroutines.
func TestAgreesWithXCrypto(t *testing.T) {
	type params struct {
		time, memory uint32
		threads      uint8
	}
	sets := []params{{1, 64, 1}, {2, 256, 1}, {3, 256, 4}, {2, 19456, 1}, {1, 1024, 2}}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 6 {
				p := sets[(g+i)%len(sets)]
				pw, salt := []byte(fmt.Sprintf("password %d/%d", g, i)), []byte(fmt.Sprintf("salt-%d-%d-0123456", g, i))
				got := IDKey(pw, salt, p.time, p.memory, p.threads, 32)
				if want := xargon2.IDKey(pw, salt, p.time, p.memory, p.threads, 32); !bytes.Equal(got, want) {
					t.Errorf("IDKey(%+v) = %x, want x/crypto's %x", p, got, want)
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkIDKey(b *testing.B) {
	pw, salt := []byte("correct horse battery staple"), []byte("0123456789abcdef")
	b.Run("pooled", func(b *testing.B) {
		for b.Loop() {
			IDKey(pw, salt, 2, 19456, 1, 32)
		}
	})
	b.Run("x/crypto", func(b *testing.B) {
		for b.Loop() {
			xargon2.IDKey(pw, salt, 2, 19456, 1, 32)
		}
	})
}
