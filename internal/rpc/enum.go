package rpc

// Enum maps a domain enum to its proto enum and back, from one table, so
// the two directions cannot drift apart. A value missing from the table
// maps to the other side's zero value (UNSPECIFIED, or "").
type Enum[D, P comparable] struct {
	to   map[D]P
	from map[P]D
}

// NewEnum builds an Enum from the domain-to-proto table. The table must be
// one-to-one.
func NewEnum[D, P comparable](to map[D]P) Enum[D, P] {
	from := make(map[P]D, len(to))
	for d, p := range to {
		if _, dup := from[p]; dup {
			panic("rpc.NewEnum: two domain values map to one proto value")
		}
		from[p] = d
	}
	return Enum[D, P]{to: to, from: from}
}

// Proto converts a domain value.
func (e Enum[D, P]) Proto(d D) P { return e.to[d] }

// Domain converts a proto value, reporting whether it was in the table.
func (e Enum[D, P]) Domain(p P) (D, bool) {
	d, ok := e.from[p]
	return d, ok
}
