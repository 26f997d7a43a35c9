package adminapi

import (
	"bytes"
	"context"

	"connectrpc.com/connect"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/cosyncjwt"
	"github.com/cosync/cosync-auth/internal/identity"
)

// CosyncJWTImporter imports a parsed CosyncJWT export into an app.
type CosyncJWTImporter func(ctx context.Context, d identity.Developer, appID string, ex cosyncjwt.Export, dryRun bool) (cosyncjwt.ImportReport, error)

func (h *Handler) ImportCosyncJwtUsers(ctx context.Context, req *adminv1.ImportCosyncJwtUsersRequest) (*adminv1.ImportCosyncJwtUsersResponse, error) {
	if h.ImportCosyncJWT == nil {
		return nil, connect.NewError(connect.CodeUnimplemented, nil)
	}
	m, err := h.con.GetApp(ctx, developer(ctx), req.GetAppId())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	if !m.Role.CanWrite() {
		return nil, h.fail(ctx, apperr.New(apperr.Permission, apperr.ReasonPermissionDenied, "your role in this application may only read"))
	}
	ex, err := cosyncjwt.ReadExport(bytes.NewReader(req.GetExport()))
	if err != nil {
		return nil, h.fail(ctx, apperr.Field("export", err.Error()))
	}
	rep, err := h.ImportCosyncJWT(ctx, developer(ctx), m.ID, ex, req.GetDryRun())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.ImportCosyncJwtUsersResponse{
		DryRun: rep.DryRun, Imported: int32(rep.Imported), AppTokenSet: rep.AppTokenSet,
		Skipped: importRows(rep.Skipped), Notes: importRows(rep.Notes),
		Signups: int32(rep.Signups), Invites: int32(rep.Invites), Authenticators: int32(rep.Authenticators),
		SigningKeyId: rep.SigningKey,
	}, nil
}

func importRows(rows []cosyncjwt.ImportRow) []*adminv1.ImportRow {
	out := make([]*adminv1.ImportRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, &adminv1.ImportRow{Line: int32(r.Line), Handle: r.Handle, Reason: r.Reason})
	}
	return out
}
