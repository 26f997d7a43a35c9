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

	"golang.org/x/crypto/bcrypt"

	"github.com/cosync/cosync-auth/internal/password/argon2"
)

// Bounds are what this machine does flat out on all cores, measured in the
// same run as the scenarios so results read as ratios.
type Bounds struct {
	Hash            string  // the password hash measured, as PasswordHash.Name
	HashesPerSecond float64 // at the server's parameters
	RSAPerSecond    float64 // RSA-2048 PKCS#1 v1.5 SHA-256 signatures
}

// Argon2Params are the server's argon2id parameters (COSYNC_ARGON2_*).
type Argon2Params struct {
	MemoryKiB, Iterations, Parallelism int
}

// PasswordHash is the hash a server computes on every password login, at
// its parameters: the bound its login and signup rows are read against.
type PasswordHash struct {
	Name string // as the report prints it
	hash func()
}

// Argon2id is cosync-auth's password hash at parameters p, computed as
// the server computes it (internal/password/argon2, whose buffers are
// reused: the bound is the hash, not the allocator).
func Argon2id(p Argon2Params) PasswordHash {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	return PasswordHash{Name: "argon2id", hash: func() {
		argon2.IDKey([]byte("correct horse battery staple"), salt, uint32(p.Iterations), uint32(p.MemoryKiB), uint8(p.Parallelism), 32)
	}}
}

// SupabaseBcryptCost is the bcrypt cost Supabase Auth hashes passwords at
// (bcrypt.DefaultCost; its configuration has no setting for it).
const SupabaseBcryptCost = bcrypt.DefaultCost

// Bcrypt is a bcrypt password check at cost, as a login does it: one
// comparison with a stored hash.
func Bcrypt(cost int) (PasswordHash, error) {
	pw := []byte("correct horse battery staple")
	stored, err := bcrypt.GenerateFromPassword(pw, cost)
	if err != nil {
		return PasswordHash{}, err
	}
	return PasswordHash{Name: "bcrypt", hash: func() { _ = bcrypt.CompareHashAndPassword(stored, pw) }}, nil
}

// MeasureBounds measures h and RSA signatures, each for d on
// runtime.NumCPU() goroutines.
func MeasureBounds(h PasswordHash, d time.Duration) (Bounds, error) {
	hashes := flatOut(d, h.hash)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Bounds{}, err
	}
	digest := sha256.Sum256([]byte("header.payload"))
	sigs := flatOut(d, func() { _, _ = rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]) })
	return Bounds{Hash: h.Name, HashesPerSecond: hashes, RSAPerSecond: sigs}, nil
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
