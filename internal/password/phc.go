package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cosync/cosync-auth/internal/password/argon2"
)

// ErrMalformed is wrapped by the error Verify returns when a stored hash is
// not an argon2id v19 PHC string within supported limits. The error never
// includes the hash itself.
var ErrMalformed = errors.New("password: malformed hash")

// Limits on parameters read from a stored hash. They are far above anything
// NewHasher would be configured with, and exist so that a corrupt or hostile
// row cannot make Verify allocate gigabytes or spin for minutes.
const (
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 64
	minSaltLen = 8 // the argon2 minimum
	maxSaltLen = 64
	minKeyLen  = 16 // shorter keys could be matched by chance
	maxKeyLen  = 128
)

var b64 = base64.RawStdEncoding.Strict()

// encode formats a PHC string for argon2id.
func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses a PHC string made by encode, strictly: fields in encode's
// order, decimal numbers without signs or padding, unpadded base64. The
// returned Params record the salt and key lengths found.
func decode(phc string) (p Params, salt, key []byte, err error) {
	fields := strings.Split(phc, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	if len(fields) != 6 || fields[0] != "" {
		return p, nil, nil, malformed("want 5 $-separated fields")
	}
	if fields[1] != "argon2id" {
		return p, nil, nil, malformed("algorithm is not argon2id")
	}
	if fields[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, malformed("unsupported version")
	}

	kv := strings.Split(fields[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, malformed("want parameters m, t, p")
	}
	m, err := param(kv[0], "m", maxMemory)
	if err != nil {
		return p, nil, nil, err
	}
	t, err := param(kv[1], "t", maxTime)
	if err != nil {
		return p, nil, nil, err
	}
	par, err := param(kv[2], "p", 255)
	if err != nil {
		return p, nil, nil, err
	}
	if par == 0 || t == 0 || m < 8*par {
		return p, nil, nil, malformed("parameters out of range")
	}

	if salt, err = b64.DecodeString(fields[4]); err != nil {
		return p, nil, nil, malformed("salt is not unpadded base64")
	}
	if key, err = b64.DecodeString(fields[5]); err != nil {
		return p, nil, nil, malformed("hash is not unpadded base64")
	}
	if len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return p, nil, nil, malformed("salt length out of range")
	}
	if len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, nil, malformed("hash length out of range")
	}

	p = Params{
		Memory:  uint32(m),
		Time:    uint32(t),
		Threads: uint8(par),
		SaltLen: uint32(len(salt)),
		KeyLen:  uint32(len(key)),
	}
	return p, salt, key, nil
}

// param parses "name=<decimal>" with the value at most limit.
func param(s, name string, limit uint64) (uint64, error) {
	v, ok := strings.CutPrefix(s, name+"=")
	if !ok {
		return 0, malformed("want parameter " + name)
	}
	// ParseUint in base 10 rejects signs, prefixes and underscores but
	// accepts leading zeros, which encode never writes.
	if len(v) > 1 && v[0] == '0' {
		return 0, malformed("parameter " + name + " has a leading zero")
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n > limit {
		return 0, malformed("parameter " + name + " out of range")
	}
	return n, nil
}

func malformed(why string) error {
	return fmt.Errorf("%w: %s", ErrMalformed, why)
}
