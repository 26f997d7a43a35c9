package identity

import "context"

// Store is the persistence the flows need, one interface per aggregate
// (store_*.go), and a transaction that hands back the same set. Every
// method is scoped by app.
// Errors are *apperr.Error: NotFound when a row is missing, Exists on a
// unique violation, Unavailable when the database cannot be reached.
// Implementations are safe for concurrent use.
type Store interface {
	Apps
	Users
	Codes
	Sessions
	Audit
	TwoFactorStore
	SocialStore
	LifecycleStore
	Deliveries

	// InTx runs fn in one transaction: every write fn makes through tx
	// commits together or not at all. fn must use tx, not the outer Store.
	InTx(ctx context.Context, fn func(tx Store) error) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
}
