import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { AdminService, type GetStatsRequest } from "@gen/cosync/admin/v1/admin_pb";
import { AppSchema, DailyStatsSchema, MemberRole } from "@gen/cosync/admin/v1/types_pb";
import { renderWith } from "../test/util";
import { AnalyticsPage, checkRange, isoDay } from "./Analytics";
import { niceMax, points } from "../ui/Chart";

const app = create(AppSchema, { id: "app-1", name: "Shop", role: MemberRole.VIEWER });

describe("chart geometry", () => {
  it("rounds the axis up to 1, 2 or 5 times a power of ten", () => {
    expect([0, 1, 3, 7, 10, 11, 180, 4999].map(niceMax)).toEqual([1, 1, 5, 10, 10, 20, 200, 5000]);
  });
  it("spreads values across the width and up from the bottom", () => {
    // Inner box: x 44..628, y 12..172.
    expect(points([0, 5, 10], 10)).toBe("44.0,172.0 336.0,92.0 628.0,12.0");
  });
});

describe("checkRange", () => {
  it("refuses a reversed range and more than a year", () => {
    expect(checkRange("2026-01-01", "2026-01-31")).toBe("");
    expect(checkRange("2026-02-01", "2026-01-31")).toBe("The first day must not be after the last.");
    expect(checkRange("2025-01-01", "2026-01-31")).toBe("Pick at most a year.");
    expect(checkRange("", "2026-01-31")).toBe("Pick both days.");
  });
});

describe("AnalyticsPage", () => {
  it("asks for the last 30 days, draws each series, and shows the totals and conversion", async () => {
    const seen: GetStatsRequest[] = [];
    const day = (date: string, signups: number, done: number) =>
      create(DailyStatsSchema, {
        date,
        signups: BigInt(signups),
        signupCompletions: BigInt(done),
        logins: 4n,
        activeUsers: 3n,
        signupConversion: signups ? done / signups : 0,
      });
    const transport = createRouterTransport(({ service }) =>
      service(AdminService, {
        getStats: (req) => {
          seen.push(req);
          return {
            days: [day(req.startDate, 4, 2), day(req.endDate, 6, 6)],
            totals: create(DailyStatsSchema, {
              signups: 10n,
              signupCompletions: 8n,
              signupConversion: 0.8,
              invitesSent: 4n,
              invitesAccepted: 1n,
              inviteConversion: 0.25,
              logins: 8n,
              loginFailures: 1n,
              activeUsers: 5n,
              users: 12n,
              twoFactorUsers: 3n,
            }),
            usersByProvider: { password: 11n, google: 2n },
          };
        },
      }),
    );
    const today = new Date(2026, 11, 6);
    renderWith(<AnalyticsPage app={app} today={today} />, transport);
    expect(await screen.findByRole("heading", { name: "2026-11-07 to 2026-12-06" })).toBeInTheDocument();
    expect(seen[0]).toMatchObject({ appId: "app-1", startDate: "2026-11-07", endDate: "2026-12-06" });
    expect(screen.getByText("(80%)")).toBeInTheDocument();
    expect(screen.getByText("1 of 4")).toBeInTheDocument();
    expect(screen.getByText("Users by sign-in: password 11 · google 2")).toBeInTheDocument();

    const signups = screen.getByRole("figure", { name: /^Sign-ups/ });
    expect(within(signups).getByText(/Started \(10 in all\)/)).toBeInTheDocument();
    expect(signups.querySelectorAll("polyline")).toHaveLength(2);
    const conversion = screen.getByRole("figure", { name: /^Conversion/ });
    expect(within(conversion).getAllByText("100%").length).toBeGreaterThan(0);
    // The numbers are there as a table too.
    expect(within(conversion).getByRole("cell", { name: "50%" })).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Last 7 days" }));
    await waitFor(() => expect(seen.at(-1)).toMatchObject({ startDate: "2026-11-30", endDate: "2026-12-06" }));
  });

  it("does not ask the server about a reversed range, and says why", async () => {
    const getStats = vi.fn(() => ({ days: [] }));
    const transport = createRouterTransport(({ service }) => service(AdminService, { getStats }));
    renderWith(<AnalyticsPage app={app} today={new Date(2026, 11, 6)} />, transport);
    await waitFor(() => expect(getStats).toHaveBeenCalledTimes(1));
    const from = screen.getByLabelText("From");
    await userEvent.clear(from);
    await userEvent.type(from, "2026-12-31");
    expect(from).toHaveAccessibleDescription("The first day must not be after the last.");
    expect(getStats).toHaveBeenCalledTimes(1);
  });

  it("writes local days as YYYY-MM-DD", () => {
    expect(isoDay(new Date(2026, 0, 5))).toBe("2026-01-05");
  });
});
