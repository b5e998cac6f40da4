import { describe, expect, it } from "vitest";
import { isSessionEndedError } from "./sessionEnded";

describe("isSessionEndedError", () => {
  it("recognises the API's not_authenticated answer on 401 and 403", () => {
    expect(isSessionEndedError("/api/studies/", 403, "not_authenticated")).toBe(true);
    expect(isSessionEndedError("/api/studies/status", 401, "not_authenticated")).toBe(
      true,
    );
  });

  it("does not treat a refusal for a logged-in user as an ended session", () => {
    expect(isSessionEndedError("/api/studies/", 403, "permission_denied")).toBe(false);
    expect(isSessionEndedError("/api/studies/", 404, "not_authenticated")).toBe(false);
    expect(isSessionEndedError("/api/studies/", 403, null)).toBe(false);
  });

  it("leaves the authentication endpoints to their callers", () => {
    expect(isSessionEndedError("/api/auth/me", 403, "not_authenticated")).toBe(false);
    expect(isSessionEndedError("/api/auth/login", 403, "not_authenticated")).toBe(false);
  });
});
