package token

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// verifiedMax bounds the tokens Verify remembers. An entry is the token's
// text and its claims, about 1.5 KiB: a few MiB at most.
const verifiedMax = 4096

// verified remembers tokens whose signature, issuer and claim types Verify
// has checked, so a bearer sending the same token on every request costs a
// map lookup instead of an RSA verification and a JSON decode. An entry
// holds for the key set that checked it: when the app's published keys
// change (a rotation, a retirement) the keyring builds a new set and the
// entry no longer counts. The time checks (exp, iat, nbf) are made afresh
// on every call. Only tokens that passed are kept, so a stream of forged
// ones cannot fill it; when full, an arbitrary entry makes room.
type verified struct {
	mu sync.Mutex
	m  map[verifiedKey]verifiedEntry
	// checks counts signature verifications, for tests of what a hit skips.
	checks atomic.Int64
}

type verifiedKey struct{ appID, issuer, raw string }

type verifiedEntry struct {
	set    jwk.Set
	claims Claims
	nbf    time.Time
}

func (v *verified) get(k verifiedKey, set jwk.Set) (verifiedEntry, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.m[k]
	if !ok || e.set != set {
		return verifiedEntry{}, false
	}
	return e, true
}

func (v *verified) put(k verifiedKey, e verifiedEntry) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = make(map[verifiedKey]verifiedEntry)
	}
	if _, ok := v.m[k]; !ok && len(v.m) >= verifiedMax {
		for old := range v.m { // Go's map iteration starts at a random entry
			delete(v.m, old)
			break
		}
	}
	v.m[k] = e
}

// cloneClaims copies c so that a caller changing what it was given cannot
// change what the next caller of the same token gets.
func cloneClaims(c Claims) Claims {
	if c.Audience != nil {
		c.Audience = append([]string(nil), c.Audience...)
	}
	if c.Extra != nil {
		c.Extra = cloneJSON(c.Extra).(map[string]any)
	}
	return c
}

// cloneJSON deep-copies a decoded JSON value.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneJSON(e)
		}
		return out
	default:
		return v
	}
}
