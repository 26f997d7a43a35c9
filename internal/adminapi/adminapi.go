// Package adminapi serves cosync.admin.v1.AdminService for developers
// signed in to the console application and for API keys. Each method
// converts the request, calls one console or identity method (which apply
// identity.Access) and maps the answer back.
package adminapi

import (
	"context"
	"log/slog"
	"net/http"

	"connectrpc.com/connect"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	"github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1/adminv1connect"

	"github.com/cosync/cosync-auth/internal/console"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/rpc"
)

// Handler implements adminv1connect.AdminServiceHandler: every RPC (it
// embeds no Unimplemented handler, so a new RPC fails to compile until it
// has a method here).
type Handler struct {
	svc *identity.Service // what an admin does to app users (invitations, second factors)
	con *console.Service  // apps, settings, keys, templates, outbox
	log *slog.Logger

	// ImportCosyncJWT runs a CosyncJWT import (ImportCosyncJwtUsers); nil
	// answers Unimplemented.
	ImportCosyncJWT CosyncJWTImporter
}

var _ adminv1connect.AdminServiceHandler = (*Handler)(nil)

// New returns the AdminService handler over svc (app users) and con (the
// developers' side).
func New(svc *identity.Service, con *console.Service, log *slog.Logger) *Handler {
	return &Handler{svc: svc, con: con, log: log}
}

// Mount returns the path and HTTP handler of the service: every call is
// authenticated as a developer first, then validated.
func Mount(h *Handler, auth rpc.Authenticator, trustProxy bool, opts ...connect.HandlerOption) (string, http.Handler) {
	all := append([]connect.HandlerOption{connect.WithInterceptors(rpc.DeveloperAuth(auth, h.log, trustProxy))}, opts...)
	return adminv1connect.NewAdminServiceHandler(h, all...)
}

func (h *Handler) fail(ctx context.Context, err error) error { return rpc.Error(ctx, h.log, err) }

func developer(ctx context.Context) identity.Developer {
	d, _ := rpc.DeveloperFrom(ctx)
	return d
}

const defaultPageSize, maxPageSize = 50, 500

func pageSize(n int32) int {
	switch {
	case n <= 0:
		return defaultPageSize
	case n > maxPageSize:
		return maxPageSize
	}
	return int(n)
}

// page trims items fetched with limit+1 to limit and returns the token of
// the next page: the key of the last item kept, or "" on the last page.
func page[T any](items []T, limit int, key func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	return items[:limit], key(items[limit-1])
}

var memberRoles = rpc.NewEnum(map[identity.Role]adminv1.MemberRole{
	identity.RoleOwner: adminv1.MemberRole_MEMBER_ROLE_OWNER, identity.RoleAdmin: adminv1.MemberRole_MEMBER_ROLE_ADMIN,
	identity.RoleViewer: adminv1.MemberRole_MEMBER_ROLE_VIEWER,
})

func (h *Handler) app(m identity.MemberApp) *adminv1.App {
	return &adminv1.App{
		Id:        m.ID,
		Name:      m.Name,
		Settings:  settingsProto(m.Settings),
		JwksUrl:   identity.JWKSURL(h.svc.PublicURL(), m.ID),
		Issuer:    identity.Issuer(h.svc.PublicURL(), m.ID),
		CreatedAt: rpc.Timestamp(m.CreatedAt),
		Role:      memberRoles.Proto(m.Role),

		EffectiveRateLimits: rateLimits(h.svc.EffectiveLimits(m.Settings)),
	}
}

func (h *Handler) CreateApp(ctx context.Context, req *adminv1.CreateAppRequest) (*adminv1.CreateAppResponse, error) {
	// The domain picks the defaults; the request's populated fields go over them.
	overRequest := func(defaults identity.AppSettings) identity.AppSettings {
		p := settingsProto(defaults)
		p.Twilio.AuthToken = ""
		if req.GetSettings() != nil {
			overlay(p.ProtoReflect(), req.GetSettings().ProtoReflect())
		}
		return settingsOf(p, defaults)
	}
	// Each app makes an RSA key: creations are limited per developer.
	giveBack, err := h.svc.TakeAppCreation(ctx, developer(ctx))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	m, err := h.con.CreateApp(ctx, developer(ctx), req.GetName(), overRequest, newTwilioToken(req.GetSettings()))
	if err != nil {
		giveBack()
		return nil, h.fail(ctx, err)
	}
	return &adminv1.CreateAppResponse{App: h.app(m)}, nil
}

func (h *Handler) ListApps(ctx context.Context, req *adminv1.ListAppsRequest) (*adminv1.ListAppsResponse, error) {
	limit := pageSize(req.GetPageSize())
	apps, err := h.con.ListApps(ctx, developer(ctx), req.GetAll(), req.GetPageToken(), limit+1)
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.ListAppsResponse{}
	apps, out.NextPageToken = page(apps, limit, func(a identity.MemberApp) string { return a.ID })
	for _, a := range apps {
		out.Apps = append(out.Apps, h.app(a))
	}
	return out, nil
}

func (h *Handler) GetApp(ctx context.Context, req *adminv1.GetAppRequest) (*adminv1.GetAppResponse, error) {
	m, err := h.con.GetApp(ctx, developer(ctx), req.GetAppId())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.GetAppResponse{App: h.app(m)}, nil
}

func (h *Handler) UpdateApp(ctx context.Context, req *adminv1.UpdateAppRequest) (*adminv1.UpdateAppResponse, error) {
	m, err := h.con.UpdateApp(ctx, developer(ctx), req.GetAppId(), func(cur identity.App) (console.AppChange, error) {
		dst := &adminv1.UpdateAppRequest{Name: cur.Name, Settings: settingsProto(cur.Settings)}
		if err := applyMask(dst, req, req.GetUpdateMask()); err != nil {
			return console.AppChange{}, err
		}
		ch := console.AppChange{Name: dst.GetName(), Settings: settingsOf(dst.GetSettings(), cur.Settings)}
		if maskTouches(req.GetUpdateMask(), "settings.twilio.auth_token") {
			ch.TwilioAuthToken = newTwilioToken(req.GetSettings())
		}
		return ch, nil
	})
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.UpdateAppResponse{App: h.app(m)}, nil
}

func (h *Handler) DeleteApp(ctx context.Context, req *adminv1.DeleteAppRequest) (*adminv1.DeleteAppResponse, error) {
	if err := h.con.DeleteApp(ctx, developer(ctx), req.GetAppId()); err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.DeleteAppResponse{}, nil
}

var deliveryStates = rpc.NewEnum(map[identity.DeliveryState]adminv1.DeliveryState{
	identity.DeliveryPending: adminv1.DeliveryState_DELIVERY_STATE_PENDING, identity.DeliverySent: adminv1.DeliveryState_DELIVERY_STATE_SENT,
	identity.DeliveryDead: adminv1.DeliveryState_DELIVERY_STATE_DEAD, identity.DeliverySuppressed: adminv1.DeliveryState_DELIVERY_STATE_SUPPRESSED,
})

func (h *Handler) ListDeliveries(ctx context.Context, req *adminv1.ListDeliveriesRequest) (*adminv1.ListDeliveriesResponse, error) {
	state, _ := deliveryStates.Domain(req.GetState()) // UNSPECIFIED: every state
	ds, err := h.con.Deliveries(ctx, developer(ctx), req.GetAppId(), state, pageSize(req.GetPageSize()))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.ListDeliveriesResponse{}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, &adminv1.Delivery{
			Id: d.ID, Channel: d.Channel, To: d.To, Subject: d.Subject, State: deliveryStates.Proto(d.State),
			Attempts: int32(d.Attempts), LastError: d.LastError, CreatedAt: rpc.Timestamp(d.CreatedAt),
			NextAttemptAt: rpc.Timestamp(d.NextAttemptAt), FinishedAt: rpc.Timestamp(d.SentAt),
		})
	}
	return out, nil
}

func (h *Handler) ListOutbox(ctx context.Context, req *adminv1.ListOutboxRequest) (*adminv1.ListOutboxResponse, error) {
	msgs, err := h.con.Outbox(ctx, developer(ctx), req.GetAppId(), pageSize(req.GetPageSize()))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.ListOutboxResponse{}
	for _, m := range msgs {
		out.Messages = append(out.Messages, &adminv1.OutboxMessage{
			Id: m.ID, Channel: m.Channel, To: m.To, Subject: m.Subject, Text: m.Text, Html: m.HTML, SentAt: rpc.Timestamp(m.SentAt),
		})
	}
	return out, nil
}
