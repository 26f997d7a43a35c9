package adminapi

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/console"
	"github.com/cosync/cosync-auth/internal/rpc"
)

func (h *Handler) ListAuditEvents(ctx context.Context, req *adminv1.ListAuditEventsRequest) (*adminv1.ListAuditEventsResponse, error) {
	f := console.AuditFilter{
		Action: req.GetAction(), Outcome: req.GetOutcome(), ActorID: req.GetActorId(), SubjectID: req.GetSubjectId(), IP: req.GetIp(),
	}
	for _, t := range []struct {
		field string
		ts    *timestamppb.Timestamp
		to    *time.Time
	}{{"start_time", req.GetStartTime(), &f.Start}, {"end_time", req.GetEndTime(), &f.End}} {
		if t.ts == nil {
			continue
		}
		if !t.ts.IsValid() {
			return nil, h.fail(ctx, apperr.Field(t.field, "is not a valid time"))
		}
		*t.to = t.ts.AsTime()
	}
	events, next, err := h.con.ListAuditEvents(ctx, developer(ctx), req.GetAppId(), f, req.GetPageToken(), pageSize(req.GetPageSize()))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.ListAuditEventsResponse{NextPageToken: next}
	for _, e := range events {
		out.Events = append(out.Events, &adminv1.AuditEvent{
			Id: e.ID, Action: e.Action, Outcome: e.Outcome, ActorId: e.ActorID, SubjectId: e.SubjectID, Ip: e.IP,
			Reason: string(e.Reason), Details: rpc.Struct(e.Details), OccurredAt: rpc.Timestamp(e.OccurredAt),
		})
	}
	return out, nil
}
