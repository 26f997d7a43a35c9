package console

// API keys: an app's credentials for scripts and backends, one role each
// (admin or viewer). Owners create and revoke them; admins may list them
// (names, prefixes and last use, never secrets), as they see the rest of
// the app's configuration.

import (
	"context"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// APIKeys is the persistence of API keys.
type APIKeys interface {
	CreateAPIKey(ctx context.Context, k identity.APIKey) error
	GetAPIKey(ctx context.Context, appID, id string) (identity.APIKey, error)
	// ListAPIKeys returns an app's keys not revoked, newest first.
	ListAPIKeys(ctx context.Context, appID string) ([]identity.APIKey, error)
	RevokeAPIKey(ctx context.Context, appID, id string, now time.Time) (bool, error)
}

// CreateAPIKey makes a key for appID with role (admin or viewer) that
// stops working at expiresAt (zero: never), and returns it with its
// secret, which is not stored and cannot be shown again. Owners only.
func (s *Service) CreateAPIKey(ctx context.Context, d identity.Developer, appID, name string, role identity.Role, expiresAt time.Time) (identity.APIKey, identity.Secret, error) {
	const op = "console.CreateAPIKey"
	if _, err := s.member(ctx, d, appID, identity.RoleOwner); err != nil {
		return identity.APIKey{}, "", err
	}
	if role != identity.RoleAdmin && role != identity.RoleViewer {
		return identity.APIKey{}, "", apperr.Field("role", "must be admin or viewer")
	}
	if name == "" || len(name) > 128 {
		return identity.APIKey{}, "", apperr.Field("name", "must be 1 to 128 characters")
	}
	now := s.clock()
	if !expiresAt.IsZero() && !expiresAt.After(now) {
		return identity.APIKey{}, "", apperr.Field("expires_at", "must be in the future")
	}
	secret, prefix, hash, err := identity.NewAPIKeySecret()
	if err != nil {
		return identity.APIKey{}, "", apperr.Wrap(err, apperr.Internal, op)
	}
	k := identity.APIKey{ID: newID(), AppID: appID, Name: name, Role: role, Prefix: prefix, Hash: hash,
		CreatedBy: d.ID, CreatedAt: now, ExpiresAt: expiresAt.UTC().Truncate(time.Microsecond)}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		return s.audit(ctx, tx, identity.AuditEvent{AppID: appID, Action: "api_key.create", ActorID: d.ActorID(), SubjectID: k.ID, IP: d.IP,
			Details: map[string]any{"name": name, "role": string(role), "prefix": prefix}})
	})
	if err != nil {
		return identity.APIKey{}, "", err
	}
	return k, secret, nil
}

// ListAPIKeys lists appID's live and expired keys (not revoked ones),
// newest first. Admins and owners.
func (s *Service) ListAPIKeys(ctx context.Context, d identity.Developer, appID string) ([]identity.APIKey, error) {
	if _, err := s.member(ctx, d, appID, identity.RoleAdmin); err != nil {
		return nil, err
	}
	return s.store.ListAPIKeys(ctx, appID)
}

// RevokeAPIKey revokes a key of appID; its next request is refused.
// Revoking a revoked key succeeds. Owners only.
func (s *Service) RevokeAPIKey(ctx context.Context, d identity.Developer, appID, id string) error {
	if _, err := s.member(ctx, d, appID, identity.RoleOwner); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Store) error {
		if _, err := tx.GetAPIKey(ctx, appID, id); apperr.Is(err, apperr.NotFound) {
			return apperr.New(apperr.NotFound, apperr.ReasonNotFound, "no API key with that id")
		} else if err != nil {
			return err
		}
		won, err := tx.RevokeAPIKey(ctx, appID, id, s.clock())
		if err != nil || !won {
			return err
		}
		return s.audit(ctx, tx, identity.AuditEvent{AppID: appID, Action: "api_key.revoke", ActorID: d.ActorID(), SubjectID: id, IP: d.IP})
	})
}
