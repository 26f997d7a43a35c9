import { Code, ConnectError } from "@connectrpc/connect";
import { fieldsUnder, problemOf } from "./errors";
import { serverError } from "../test/util";

describe("problemOf", () => {
  it("words a known reason plainly, whatever the server's message", () => {
    const p = problemOf(serverError(Code.Unauthenticated, "INVALID_CREDENTIALS"));
    expect(p.reason).toBe("INVALID_CREDENTIALS");
    expect(p.message).toBe("That email and password do not match an account.");
    expect(p.code).toBe(Code.Unauthenticated);
  });

  it("reads every field violation, keyed by the server's path", () => {
    const p = problemOf(
      serverError(Code.InvalidArgument, "INVALID_ARGUMENT", {
        "settings.token_lifetime": "must be between 1m and 24h",
        "settings.locales[1]": '"EN" is not a locale tag like en or pt-BR',
      }),
    );
    expect(p.fields).toEqual({
      "settings.token_lifetime": "must be between 1m and 24h",
      "settings.locales[1]": '"EN" is not a locale tag like en or pt-BR',
    });
    expect(fieldsUnder(p.fields, "settings.locales")).toEqual({ "[1]": '"EN" is not a locale tag like en or pt-BR' });
  });

  it("falls back to the code when there is no reason", () => {
    expect(problemOf(new ConnectError("fetch failed", Code.Unavailable)).message).toMatch(/Cannot reach the server/);
    expect(problemOf(new ConnectError("nope", Code.PermissionDenied)).message).toMatch(/role/);
  });

  it("treats a non-Connect error as one", () => {
    const p = problemOf(new TypeError("Failed to fetch"));
    expect(p.code).toBe(Code.Unknown);
    expect(p.message).toBe("Failed to fetch");
  });
});
