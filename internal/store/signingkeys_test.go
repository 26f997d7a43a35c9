package store_test

import (
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

func TestSigningKeys(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createApp(t, s, "app2")

		retired := keys.Record{
			AppID: "app1", KID: "kid-old", Algorithm: keys.AlgRS256, Backend: "local",
			State: keys.StateRetired, PublicKeyPEM: "-----BEGIN PUBLIC KEY-----\nold\n-----END PUBLIC KEY-----\n",
			SealedPrivateKey: []byte{0x00, 0xff, 0x10, 0x80, 0x27},
			CreatedAt:        t0, DeactivatedAt: t0.Add(24 * time.Hour), RetireAt: t0.Add(25 * time.Hour),
		}
		active := keys.Record{
			AppID: "app1", KID: "kid-new", Algorithm: keys.AlgRS256, Backend: "vault", BackendRef: "cosync-app1:3",
			State: keys.StateActive, PublicKeyPEM: "new", CreatedAt: t0.Add(48 * time.Hour),
		}
		verifying := keys.Record{
			AppID: "app1", KID: "kid-mid", Algorithm: keys.AlgRS256, Backend: "local",
			State: keys.StateVerifying, PublicKeyPEM: "mid", SealedPrivateKey: []byte("sealed"),
			CreatedAt: t0.Add(24 * time.Hour), DeactivatedAt: t0.Add(48 * time.Hour), RetireAt: t0.Add(49 * time.Hour),
		}
		// Inserted out of order: the list is by creation time.
		for _, r := range []keys.Record{verifying, retired, active} {
			noErr(t, "CreateSigningKey("+r.KID+")", s.CreateSigningKey(ctx, r))
		}
		other := active
		other.AppID = "app2"
		noErr(t, "CreateSigningKey(same kid, other app)", s.CreateSigningKey(ctx, other))

		got, err := s.ListSigningKeys(ctx, "app1")
		noErr(t, "ListSigningKeys", err)
		equal(t, "ListSigningKeys", got, []keys.Record{active, verifying, retired})

		wantKind(t, "CreateSigningKey(same kid)", s.CreateSigningKey(ctx, active), apperr.Exists)
		unknown := active
		unknown.AppID = "nope"
		wantKind(t, "CreateSigningKey(unknown app)", s.CreateSigningKey(ctx, unknown), apperr.NotFound)

		got, err = s.ListSigningKeys(ctx, "nope")
		if err != nil || len(got) != 0 {
			t.Errorf("ListSigningKeys(unknown app) = %v, %v; want empty, nil", got, err)
		}
	})
}
