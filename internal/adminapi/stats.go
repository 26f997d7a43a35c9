package adminapi

import (
	"context"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"

	"github.com/cosync/cosync-auth/internal/console"
)

func (h *Handler) GetStats(ctx context.Context, req *adminv1.GetStatsRequest) (*adminv1.GetStatsResponse, error) {
	rep, err := h.con.GetStats(ctx, developer(ctx), req.GetAppId(), req.GetStartDate(), req.GetEndDate())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.GetStatsResponse{Totals: dailyStats(rep.Totals), UsersByProvider: rep.UsersByProvider}
	for _, d := range rep.Days {
		out.Days = append(out.Days, dailyStats(d))
	}
	return out, nil
}

func dailyStats(d console.DayStats) *adminv1.DailyStats {
	p := &adminv1.DailyStats{
		Signups: d.Signups, SignupCompletions: d.SignupCompletions, InvitesSent: d.InvitesSent,
		InvitesAccepted: d.InvitesAccepted, Logins: d.Logins, LoginFailures: d.LoginFailures,
		ActiveUsers: d.ActiveUsers, Users: d.Users, TwoFactorUsers: d.TwoFactorUsers,
		SignupConversion: d.SignupConversion(), InviteConversion: d.InviteConversion(),
	}
	if !d.Day.IsZero() {
		p.Date = d.Day.Format(console.DateLayout)
	}
	return p
}
