package store

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/secrets"
)

// SealedColumns lists every place the store keeps a secrets.Box's output,
// for secrets.Rekey. A feature that stores sealed values adds its column
// here.
func (s *Store) SealedColumns() []secrets.Column {
	return []secrets.Column{
		s.sealedPrivateKeys(),
		s.sealedDeploymentSecrets(),
		s.sealedTotpSecrets(),
		s.sealedTwilioTokens(),
	}
}

type deploymentSecretRow struct {
	bun.BaseModel `bun:"table:deployment_secrets,alias:ds"`

	Name      string    `bun:"name,pk"`
	Sealed    []byte    `bun:"sealed"`
	CreatedAt time.Time `bun:"created_at"`
}

// DeploymentSecretAssociatedData is the associated data the deployment
// secret name is sealed under.
func DeploymentSecretAssociatedData(name string) []byte {
	return []byte("deployment-secret:" + name)
}

// DeploymentSecret returns the sealed deployment secret name; NotFound when
// there is none.
func (s *Store) DeploymentSecret(ctx context.Context, name string) ([]byte, error) {
	var row deploymentSecretRow
	err := s.idb.NewSelect().Model(&row).Where("name = ?", name).Scan(ctx)
	if err != nil {
		return nil, wrap(err, "store.DeploymentSecret")
	}
	return row.Sealed, nil
}

// AddDeploymentSecret stores the sealed deployment secret name unless one
// exists, and reports whether it stored it: of replicas starting together,
// one wins and the others read its secret.
func (s *Store) AddDeploymentSecret(ctx context.Context, name string, sealed []byte, now time.Time) (bool, error) {
	row := deploymentSecretRow{Name: name, Sealed: sealed, CreatedAt: utc(now)}
	res, err := s.idb.NewInsert().Model(&row).On("CONFLICT (name) DO NOTHING").Exec(ctx)
	return changed(res, err, "store.AddDeploymentSecret")
}

func (s *Store) sealedDeploymentSecrets() secrets.Column {
	return secrets.Column{
		Name: "deployment_secrets.sealed",
		Page: func(ctx context.Context, after string, limit int) ([]secrets.Sealed, error) {
			var rows []deploymentSecretRow
			err := s.idb.NewSelect().Model(&rows).Where("name > ?", after).Order("name").Limit(limit).Scan(ctx)
			if err != nil {
				return nil, wrap(err, "store.sealedDeploymentSecrets")
			}
			out := make([]secrets.Sealed, len(rows))
			for i, r := range rows {
				out[i] = secrets.Sealed{Ref: r.Name, Ciphertext: r.Sealed, Associated: DeploymentSecretAssociatedData(r.Name)}
			}
			return out, nil
		},
		Replace: func(ctx context.Context, old secrets.Sealed, ciphertext []byte) (bool, error) {
			res, err := s.idb.NewUpdate().Model((*deploymentSecretRow)(nil)).
				Set("sealed = ?", ciphertext).
				Where("name = ? AND sealed = ?", old.Ref, old.Ciphertext).
				Exec(ctx)
			return changed(res, err, "store.sealedDeploymentSecrets")
		},
	}
}

// sealedTotpSecrets is totp_secrets.secret_sealed: Ref is the user id.
func (s *Store) sealedTotpSecrets() secrets.Column {
	return secrets.Column{
		Name: "totp_secrets.secret_sealed",
		Page: func(ctx context.Context, after string, limit int) ([]secrets.Sealed, error) {
			var rows []totpRow
			err := s.idb.NewSelect().Model(&rows).Column("user_id", "app_id", "secret_sealed").
				Where("user_id > ?", after).Order("user_id").Limit(limit).Scan(ctx)
			if err != nil {
				return nil, wrap(err, "store.sealedTotpSecrets")
			}
			out := make([]secrets.Sealed, len(rows))
			for i, r := range rows {
				out[i] = secrets.Sealed{Ref: r.UserID, Ciphertext: r.SecretSealed, Associated: identity.TotpSecretAssociatedData(r.AppID, r.UserID)}
			}
			return out, nil
		},
		Replace: func(ctx context.Context, old secrets.Sealed, ciphertext []byte) (bool, error) {
			res, err := s.idb.NewUpdate().Model((*totpRow)(nil)).
				Set("secret_sealed = ?", ciphertext).
				Where("user_id = ? AND secret_sealed = ?", old.Ref, old.Ciphertext).
				Exec(ctx)
			return changed(res, err, "store.sealedTotpSecrets")
		},
	}
}

// sealedTwilioTokens is the Twilio auth token inside apps.settings: Ref is
// the app id.
func (s *Store) sealedTwilioTokens() secrets.Column {
	const op = "store.sealedTwilioTokens"
	hasToken := "settings->'twilio'->>'auth_token_sealed' IS NOT NULL"
	if s.dialect == SQLite {
		hasToken = "json_extract(settings, '$.twilio.auth_token_sealed') IS NOT NULL"
	}
	return secrets.Column{
		Name: "apps.settings.twilio.auth_token_sealed",
		Page: func(ctx context.Context, after string, limit int) ([]secrets.Sealed, error) {
			var rows []appRow
			err := s.idb.NewSelect().Model(&rows).Where("id > ? AND "+hasToken, after).Order("id").Limit(limit).Scan(ctx)
			if err != nil {
				return nil, wrap(err, op)
			}
			out := make([]secrets.Sealed, 0, len(rows))
			for _, r := range rows {
				a, err := r.app()
				if err != nil {
					return nil, apperr.Wrap(err, apperr.Internal, op)
				}
				out = append(out, secrets.Sealed{Ref: r.ID, Ciphertext: a.Settings.Twilio.AuthTokenSealed, Associated: identity.TwilioTokenAssociatedData(r.ID)})
			}
			return out, nil
		},
		Replace: func(ctx context.Context, old secrets.Sealed, ciphertext []byte) (bool, error) {
			var row appRow
			if err := s.idb.NewSelect().Model(&row).Where("id = ?", old.Ref).Scan(ctx); err != nil {
				if apperr.Is(wrap(err, op), apperr.NotFound) {
					return false, nil // the app is gone
				}
				return false, wrap(err, op)
			}
			a, err := row.app()
			if err != nil {
				return false, apperr.Wrap(err, apperr.Internal, op)
			}
			if !bytes.Equal(a.Settings.Twilio.AuthTokenSealed, old.Ciphertext) {
				return false, nil
			}
			a.Settings.Twilio.AuthTokenSealed = ciphertext
			settings, err := json.Marshal(a.Settings)
			if err != nil {
				return false, apperr.Wrap(err, apperr.Internal, op)
			}
			// Only over the settings read: an UpdateApp in between wins.
			res, err := s.idb.NewUpdate().Model((*appRow)(nil)).
				Set("settings = ?", string(settings)).
				Where("id = ? AND settings = ?", old.Ref, row.Settings).
				Exec(ctx)
			ok, err := changed(res, err, op)
			if ok && err == nil {
				err = s.announce(ctx, ChangeApp, old.Ref)
			}
			return ok, err
		},
	}
}
