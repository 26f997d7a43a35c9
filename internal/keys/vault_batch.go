package keys

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// batch is the Sign calls for one key version that go to Vault together.
type batch struct {
	ref   versionRef
	items []*signItem
	timer *time.Timer
}

type signItem struct {
	digest []byte
	res    chan signResult // buffered: send never waits for a caller that left
}

type signResult struct {
	sig []byte
	err error
}

// enqueue adds digest to the batch filling up for ref (starting one, and
// its window, if there is none) and waits for its signature. A full batch
// leaves at once; otherwise the window's end sends it.
func (s *VaultSigner) enqueue(ctx context.Context, ref versionRef, digest []byte) ([]byte, error) {
	it := &signItem{digest: digest, res: make(chan signResult, 1)}
	s.mu.Lock()
	b := s.pending[ref]
	if b == nil {
		b = &batch{ref: ref}
		s.pending[ref] = b
		b.timer = time.AfterFunc(s.cfg.BatchWindow, func() { s.flush(b) })
	}
	b.items = append(b.items, it)
	full := len(b.items) >= s.cfg.BatchSize
	if full {
		delete(s.pending, ref)
		b.timer.Stop() // if it fired already, flush finds b gone and leaves it to us
	}
	s.mu.Unlock()
	if full {
		go s.send(b)
	}
	select {
	case r := <-it.res:
		return r.sig, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// flush sends b when its window ends, unless it left full before.
func (s *VaultSigner) flush(b *batch) {
	s.mu.Lock()
	mine := s.pending[b.ref] == b
	if mine {
		delete(s.pending, b.ref)
	}
	s.mu.Unlock()
	if mine {
		s.send(b)
	}
}

// send signs every digest of b in one Transit call and hands each caller
// its signature or the error. The call is not bound to any one caller's
// context (the batch serves them all); the Vault client's timeout bounds it.
func (s *VaultSigner) send(b *batch) {
	ctx := context.Background()
	if len(b.items) == 1 {
		sig, err := s.signOne(ctx, b.ref, b.items[0].digest)
		b.items[0].res <- signResult{sig, err}
		return
	}
	input := make([]map[string]any, len(b.items))
	for i, it := range b.items {
		input[i] = map[string]any{"input": base64.StdEncoding.EncodeToString(it.digest), "reference": strconv.Itoa(i)}
	}
	data := signParams()
	data["key_version"] = b.ref.version
	data["batch_input"] = input
	sec, err := s.v.Write(ctx, s.cfg.Mount+"/sign/"+b.ref.name, data)
	var results []any
	if err == nil {
		if sec != nil {
			results, _ = sec.Data["batch_results"].([]any)
		}
		if len(results) != len(b.items) {
			err = fmt.Errorf("%d batch results for %d inputs", len(results), len(b.items))
		}
	}
	if err != nil {
		err = fmt.Errorf("keys: sign a batch of %d with %s: %w", len(b.items), b.ref, err)
		for _, it := range b.items {
			it.res <- signResult{err: err}
		}
		return
	}
	for i, it := range b.items {
		it.res <- s.result(b.ref, i, results[i])
	}
}

// result reads the i-th entry of a batch answer.
func (s *VaultSigner) result(ref versionRef, i int, raw any) signResult {
	m, _ := raw.(map[string]any)
	if ref, _ := m["reference"].(string); ref != strconv.Itoa(i) {
		return signResult{err: fmt.Errorf("keys: batch result %d has reference %q", i, ref)}
	}
	if msg, _ := m["error"].(string); msg != "" {
		return signResult{err: apperr.Wrap(fmt.Errorf("vault refused batch item %d: %s", i, msg), apperr.Internal, "keys.Sign")}
	}
	sig, _ := m["signature"].(string)
	b, err := decodeSignature(sig, ref)
	return signResult{sig: b, err: err}
}
