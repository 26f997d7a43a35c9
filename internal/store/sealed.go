package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/secrets"
)

// SealedColumns lists every place the store keeps a secrets.Box's output,
// for secrets.Rekey. A feature that stores sealed values adds its column
// here.
func (s *Store) SealedColumns() []secrets.Column {
	return []secrets.Column{
		s.sealedPrivateKeys(),
		s.sealedDeploymentSecrets(),
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
