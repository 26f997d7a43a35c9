package store

import (
	"context"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// FindAppByCosyncJWTToken returns the app whose CosyncJWT app token hashes
// to hash (identity.CosyncJWTTokenHash). NotFound when none does.
func (s *Store) FindAppByCosyncJWTToken(ctx context.Context, hash string) (identity.App, error) {
	const op = "store.FindAppByCosyncJWTToken"
	if hash == "" {
		return identity.App{}, apperr.New(apperr.NotFound, apperr.ReasonAppNotFound, "no application with that app token")
	}
	var row appRow
	if err := s.idb.NewSelect().Model(&row).Where("cosyncjwt_token_hash = ?", hash).Scan(ctx); err != nil {
		return identity.App{}, wrap(err, op)
	}
	a, err := row.app()
	if err != nil {
		return identity.App{}, apperr.Wrap(err, apperr.Internal, op)
	}
	return a, nil
}
