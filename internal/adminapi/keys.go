package adminapi

import (
	"context"
	"encoding/json"

	"google.golang.org/protobuf/types/known/structpb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/rpc"
)

var keyStates = map[keys.State]adminv1.KeyState{
	keys.StateActive: adminv1.KeyState_KEY_STATE_ACTIVE, keys.StateVerifying: adminv1.KeyState_KEY_STATE_VERIFYING,
	keys.StateRetired: adminv1.KeyState_KEY_STATE_RETIRED,
}

func (h *Handler) ListSigningKeys(ctx context.Context, req *adminv1.ListSigningKeysRequest) (*adminv1.ListSigningKeysResponse, error) {
	recs, err := h.con.SigningKeys(ctx, developer(ctx), req.GetAppId())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.ListSigningKeysResponse{}
	for _, r := range recs {
		k, err := signingKey(r)
		if err != nil {
			return nil, h.fail(ctx, err)
		}
		out.Keys = append(out.Keys, k)
	}
	return out, nil
}

func (h *Handler) RotateSigningKey(ctx context.Context, req *adminv1.RotateSigningKeyRequest) (*adminv1.RotateSigningKeyResponse, error) {
	rec, err := h.con.RotateSigningKey(ctx, developer(ctx), req.GetAppId())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	k, err := signingKey(rec)
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.RotateSigningKeyResponse{Key: k}, nil
}

func signingKey(r identity.PublicKey) (*adminv1.SigningKey, error) {
	jwk, err := jwkStruct(r)
	if err != nil {
		return nil, err
	}
	return &adminv1.SigningKey{
		Kid: r.KID, State: keyStates[r.State], Algorithm: r.Algorithm, PublicKeyPem: r.PublicKeyPEM, Jwk: jwk,
		CreatedAt: rpc.Timestamp(r.CreatedAt), DeactivatedAt: rpc.Timestamp(r.DeactivatedAt), RetireAt: rpc.Timestamp(r.RetireAt),
	}, nil
}

func jwkStruct(r identity.PublicKey) (*structpb.Struct, error) {
	const op = "adminapi.jwk"
	k, err := keys.PublicKeyJWK(r)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, op)
	}
	b, err := json.Marshal(k)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, op)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, op)
	}
	return structpb.NewStruct(m)
}
