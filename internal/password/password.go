// Package password hashes and verifies passwords with argon2id, stored as
// PHC strings, and checks new passwords against a composition policy.
//
// Argon2id is memory-hard on purpose, so every hash or verify holds
// Params.Memory KiB for its duration. A Hasher bounds how many run at once so
// a flood of logins queues rather than exhausting the machine's memory.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"runtime"
	"time"

	"github.com/cosync/cosync-auth/internal/password/argon2"
)

// Params are argon2id parameters.
type Params struct {
	Memory  uint32 // memory cost in KiB
	Time    uint32 // number of passes over the memory
	Threads uint8  // degree of parallelism
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // derived key length in bytes
}

// DefaultParams returns the OWASP minimum for argon2id: 19 MiB of memory
// (m=19456 KiB), two passes, one thread, a 16-byte salt and a 32-byte key.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// withDefaults fills each zero field of p from DefaultParams and raises
// Memory to argon2's floor of 8 KiB per thread, so the PHC string records the
// memory actually used.
func (p Params) withDefaults() Params {
	d := DefaultParams()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	if floor := 8 * uint32(p.Threads); p.Memory < floor {
		p.Memory = floor
	}
	return p
}

// Hasher hashes and verifies passwords with fixed parameters, running at most
// a bounded number of argon2id computations at once. It is safe for
// concurrent use; create one per process and share it.
type Hasher struct {
	params Params
	sem    chan struct{} // one token per computation allowed to run
	dummy  string        // PHC string no password matches, for VerifyDummy

	// derive computes the argon2id key; tests replace it to observe
	// concurrency without paying for real hashes.
	derive func(plain, salt []byte, p Params) []byte

	// waited, when set, is told how long each computation waited for its slot.
	waited func(time.Duration)
}

// OnWait makes h report, to f, how long each hash or verify waited for a
// computation slot (the hash queue's wait; package metrics records it).
// Call it before h is shared: it is not synchronized with the hashing.
func (h *Hasher) OnWait(f func(time.Duration)) { h.waited = f }

// NewHasher returns a Hasher that hashes with p and bounds concurrent hash
// and verify work to maxConcurrent (<= 0 means runtime.GOMAXPROCS(0)), so a
// login flood queues instead of exhausting memory (each hash holds p.Memory
// KiB). Zero fields of p take their DefaultParams value. Waiting for a slot
// respects the caller's context.
func NewHasher(p Params, maxConcurrent int) *Hasher {
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	p = p.withDefaults()
	h := &Hasher{
		params: p,
		sem:    make(chan struct{}, maxConcurrent),
		derive: argon2id,
	}
	// A random key under the real parameters: verifying against it costs
	// exactly what a real verify costs, and no password can match it.
	salt := make([]byte, p.SaltLen)
	key := make([]byte, p.KeyLen)
	rand.Read(salt)
	rand.Read(key)
	h.dummy = encode(p, salt, key)
	return h
}

func argon2id(plain, salt []byte, p Params) []byte {
	return argon2.IDKey(plain, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// acquire waits for a computation slot or for ctx to end. A context that has
// already ended never gets a slot, even if one is free.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	start := time.Now()
	select {
	case h.sem <- struct{}{}:
		if h.waited != nil {
			h.waited(time.Since(start))
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.sem }

// Hash returns plain hashed under a fresh random salt as a PHC string:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// with salt and hash in unpadded standard base64. The only error is ctx's,
// when it ends while Hash waits for a slot.
func (h *Hasher) Hash(ctx context.Context, plain string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	rand.Read(salt) // never fails since Go 1.24; it crashes the program instead
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	key := h.derive([]byte(plain), salt, h.params)
	return encode(h.params, salt, key), nil
}

// Verify reports whether plain matches phc, comparing in constant time, and
// whether phc was made with parameters other than h's (needsRehash), so the
// caller can store a fresh Hash after a successful login. needsRehash is
// meaningful only when ok is true. Verify computes with phc's own
// parameters, within the limits decode enforces.
//
// A bcrypt hash ($2a$, $2b$, $2y$: users imported from CosyncJWT) is
// checked with bcrypt and always needs a rehash, so it is replaced by
// argon2id at the first successful login.
//
// A phc that is not an argon2id v19 PHC string nor bcrypt, or whose parameters are out
// of range, yields an error wrapping ErrMalformed. When ctx ends while Verify
// waits for a slot, the error is ctx's.
func (h *Hasher) Verify(ctx context.Context, plain, phc string) (ok, needsRehash bool, err error) {
	if isBcrypt(phc) {
		return h.verifyBcrypt(ctx, plain, phc)
	}
	p, salt, want, err := decode(phc)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	got := h.derive([]byte(plain), salt, p)
	ok = subtle.ConstantTimeCompare(got, want) == 1
	return ok, p != h.params, nil
}

// VerifyDummy does the same work as Verify against a fixed internal hash made
// with h's parameters, and discards the result. Call it when a login names an
// unknown handle, so that answer takes as long as a wrong password does and
// response times do not reveal which handles exist.
func (h *Hasher) VerifyDummy(ctx context.Context, plain string) {
	_, _, _ = h.Verify(ctx, plain, h.dummy)
}
