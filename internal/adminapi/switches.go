package adminapi

import (
	"context"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"

	"github.com/cosync/cosync-auth/internal/console"
)

func (h *Handler) SetGlobalSwitches(ctx context.Context, req *adminv1.SetGlobalSwitchesRequest) (*adminv1.SetGlobalSwitchesResponse, error) {
	apps, err := h.con.SetGlobalSwitches(ctx, developer(ctx), console.Switches{SignupEnabled: req.SignupEnabled, InvitesEnabled: req.InvitesEnabled})
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.SetGlobalSwitchesResponse{}
	for _, a := range apps {
		out.Apps = append(out.Apps, h.app(a))
	}
	return out, nil
}
