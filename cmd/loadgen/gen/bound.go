package gen

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// Bounds are what this machine does flat out on all cores, measured in the
// same run as the scenarios so results read as ratios.
type Bounds struct {
	Argon2PerSecond float64 // argon2id hashes at the server's parameters
	RSAPerSecond    float64 // RSA-2048 PKCS#1 v1.5 SHA-256 signatures
}

// Argon2Params are the server's argon2id parameters (COSYNC_ARGON2_*).
type Argon2Params struct {
	MemoryKiB, Iterations, Parallelism int
}

// MeasureBounds measures each bound for d on runtime.NumCPU() goroutines.
func MeasureBounds(p Argon2Params, d time.Duration) (Bounds, error) {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	hashes := flatOut(d, func() {
		argon2.IDKey([]byte("correct horse battery staple"), salt, uint32(p.Iterations), uint32(p.MemoryKiB), uint8(p.Parallelism), 32)
	})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Bounds{}, err
	}
	digest := sha256.Sum256([]byte("header.payload"))
	sigs := flatOut(d, func() { _, _ = rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]) })
	return Bounds{Argon2PerSecond: hashes, RSAPerSecond: sigs}, nil
}

// flatOut runs fn on every CPU for d and returns the calls per second.
func flatOut(d time.Duration, fn func()) float64 {
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				fn()
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}
