package secrets

import (
	"context"
	"errors"
	"fmt"
)

// Chain returns a Box that seals with primary and opens with the first of
// primary and older that can: a deployment moving from one Box to another
// (the master key to Vault Transit) keeps reading what the old one sealed
// until Rekey has sealed it again. Open stops at the first error that is
// not ErrDecrypt (Vault being down is not "try the next box").
func Chain(primary Box, older ...Box) Box {
	if len(older) == 0 {
		return primary
	}
	return chain{primary: primary, all: append([]Box{primary}, older...)}
}

type chain struct {
	primary Box
	all     []Box
}

func (c chain) Seal(ctx context.Context, plaintext, associated []byte) ([]byte, error) {
	return c.primary.Seal(ctx, plaintext, associated)
}

func (c chain) Open(ctx context.Context, ciphertext, associated []byte) ([]byte, error) {
	for _, b := range c.all {
		plain, err := b.Open(ctx, ciphertext, associated)
		if !errors.Is(err, ErrDecrypt) {
			return plain, err
		}
	}
	return nil, ErrDecrypt
}

// Sealed is one stored ciphertext: which row holds it (Ref, unique and
// ordered within its Column) and the associated data it is bound to.
type Sealed struct {
	Ref        string
	Ciphertext []byte
	Associated []byte
}

// Column is one place where sealed values are stored (a column of a
// table, a field of a JSON document). Every place that stores a Box's
// output registers one, so Rekey reaches it.
type Column struct {
	// Name names the column in reports, e.g. "signing_keys.sealed_private_key".
	Name string
	// Page returns up to limit values whose Ref sorts after `after`, in
	// Ref order; fewer than limit means the end.
	Page func(ctx context.Context, after string, limit int) ([]Sealed, error)
	// Replace stores ciphertext for s.Ref if the row still holds
	// s.Ciphertext, and reports whether it did: a value changed since Page
	// read it is left alone.
	Replace func(ctx context.Context, s Sealed, ciphertext []byte) (bool, error)
}

// RekeyResult counts what Rekey did to one column.
type RekeyResult struct {
	Column   string
	Resealed int // opened and sealed again
	Changed  int // changed meanwhile by someone else; left alone
}

// rekeyPage is how many values Rekey reads at once.
const rekeyPage = 200

// Rekey opens every value of every column with from and seals it again
// with to, bound to the same associated data, replacing it in place. Run it
// after changing a deployment's Box (from a Chain of the new and old boxes
// to the new one) or rotating its key. It is safe to run while servers
// run, and to run again: a value that cannot be opened stops it with an
// error naming the column and row, after the values before it were done.
func Rekey(ctx context.Context, from, to Box, cols []Column) ([]RekeyResult, error) {
	var out []RekeyResult
	for _, col := range cols {
		res := RekeyResult{Column: col.Name}
		after := ""
		for {
			page, err := col.Page(ctx, after, rekeyPage)
			if err != nil {
				return append(out, res), fmt.Errorf("secrets: rekey %s: %w", col.Name, err)
			}
			for _, s := range page {
				plain, err := from.Open(ctx, s.Ciphertext, s.Associated)
				if err != nil {
					return append(out, res), fmt.Errorf("secrets: rekey %s, row %s: %w", col.Name, s.Ref, err)
				}
				ct, err := to.Seal(ctx, plain, s.Associated)
				clear(plain)
				if err != nil {
					return append(out, res), fmt.Errorf("secrets: rekey %s, row %s: %w", col.Name, s.Ref, err)
				}
				ok, err := col.Replace(ctx, s, ct)
				if err != nil {
					return append(out, res), fmt.Errorf("secrets: rekey %s, row %s: %w", col.Name, s.Ref, err)
				}
				if ok {
					res.Resealed++
				} else {
					res.Changed++
				}
				after = s.Ref
			}
			if len(page) < rekeyPage {
				break
			}
		}
		out = append(out, res)
	}
	return out, nil
}
