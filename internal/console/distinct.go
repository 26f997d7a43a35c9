package console

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"math"
	"math/bits"
	"slices"
)

// distinct counts distinct ids across days without keeping the ids: the
// rollup stores one per day (daily_stats.active_sketch) and GetStats merges
// a range's. Up to exactLimit ids it keeps their 64-bit hashes and counts
// exactly (a hash collision among a few thousand ids is vanishingly rare);
// past that it becomes a HyperLogLog sketch of 2^hllP registers, whose
// standard error is 1.04/sqrt(2^hllP) ≈ 0.8%. Both forms encode to at most
// 16 KiB. The zero value is an empty exact set. Not safe for concurrent use.
type distinct struct {
	exact map[uint64]struct{} // nil once regs took over
	regs  []uint8             // HyperLogLog registers, nil while exact
}

const (
	hllP       = 14
	hllM       = 1 << hllP
	exactLimit = 2048 // 8 bytes each: as large as the registers

	kindExact byte = 1
	kindHLL   byte = 2
)

// hashID hashes an id stably across processes and replicas (FNV-1a, then
// the splitmix64 finalizer, since HyperLogLog needs well-mixed high bits).
func hashID(id string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Add counts id.
func (d *distinct) Add(id string) { d.addHash(hashID(id)) }

func (d *distinct) addHash(h uint64) {
	if d.regs != nil {
		d.addReg(h)
		return
	}
	if d.exact == nil {
		d.exact = map[uint64]struct{}{}
	}
	d.exact[h] = struct{}{}
	if len(d.exact) > exactLimit {
		d.toHLL()
	}
}

func (d *distinct) addReg(h uint64) {
	idx := h >> (64 - hllP)
	rho := uint8(bits.LeadingZeros64(h<<hllP|1<<(hllP-1)) + 1)
	if rho > d.regs[idx] {
		d.regs[idx] = rho
	}
}

func (d *distinct) toHLL() {
	d.regs = make([]uint8, hllM)
	for h := range d.exact {
		d.addReg(h)
	}
	d.exact = nil
}

// Merge adds every id o counted.
func (d *distinct) Merge(o *distinct) {
	if o.regs == nil {
		for h := range o.exact {
			d.addHash(h)
		}
		return
	}
	if d.regs == nil {
		d.toHLL()
	}
	for i, r := range o.regs {
		if r > d.regs[i] {
			d.regs[i] = r
		}
	}
}

// Count returns the number of distinct ids: exact while small, else the
// HyperLogLog estimate (linear counting while registers are still empty).
func (d *distinct) Count() int64 {
	if d.regs == nil {
		return int64(len(d.exact))
	}
	var sum float64
	zeros := 0
	for _, r := range d.regs {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	m := float64(hllM)
	e := 0.7213 / (1 + 1.079/m) * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros))
	}
	return int64(math.Round(e))
}

// MarshalBinary encodes d: a kind byte, then the sorted hashes (big
// endian) or the registers.
func (d *distinct) MarshalBinary() []byte {
	if d.regs != nil {
		return append([]byte{kindHLL}, d.regs...)
	}
	hs := make([]uint64, 0, len(d.exact))
	for h := range d.exact {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	b := make([]byte, 1, 1+8*len(hs))
	b[0] = kindExact
	for _, h := range hs {
		b = binary.BigEndian.AppendUint64(b, h)
	}
	return b
}

var errSketch = errors.New("console: malformed active-user sketch")

// parseDistinct decodes what MarshalBinary made; empty input is an empty set.
func parseDistinct(b []byte) (*distinct, error) {
	d := &distinct{}
	if len(b) == 0 {
		return d, nil
	}
	switch {
	case b[0] == kindHLL && len(b) == 1+hllM:
		d.regs = slices.Clone(b[1:])
	case b[0] == kindExact && (len(b)-1)%8 == 0:
		d.exact = make(map[uint64]struct{}, (len(b)-1)/8)
		for i := 1; i < len(b); i += 8 {
			d.addHash(binary.BigEndian.Uint64(b[i:]))
		}
	default:
		return nil, errSketch
	}
	return d, nil
}
