package store

import (
	"context"

	"github.com/cosync/cosync-auth/internal/console"
	"github.com/cosync/cosync-auth/internal/identity"
)

// consoleStore is the store as the console package sees it: the same
// methods, and a transaction that hands back the console's set.
type consoleStore struct{ *Store }

var _ console.Store = consoleStore{}

// Console returns s as the console's Store.
func (s *Store) Console() console.Store { return consoleStore{s} }

func (c consoleStore) InTx(ctx context.Context, fn func(tx console.Store) error) error {
	return c.Store.InTx(ctx, func(tx identity.Store) error {
		return fn(consoleStore{tx.(*Store)})
	})
}
