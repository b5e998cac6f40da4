import { describe, expect, it } from "vitest";
import { ApiError } from "../api/ApiError";
import { translate } from "../i18n/translate";
import type { Translate } from "../i18n/translate";
import { loginErrorMessage } from "./loginErrorMessage";

const t: Translate = (key, params) => translate("en", key, params);

describe("loginErrorMessage", () => {
  it("explains wrong credentials, throttling and network failures", () => {
    expect(loginErrorMessage(new ApiError(400, "Invalid"), t)).toBe(
      "Wrong user name or password.",
    );
    expect(loginErrorMessage(new ApiError(429, "Slow down"), t)).toMatch(
      /Too many attempts/,
    );
    expect(loginErrorMessage(new ApiError(0, "network"), t)).toMatch(/Cannot reach/);
  });
  it("shows the server's message for other errors", () => {
    expect(loginErrorMessage(new ApiError(500, "Database down"), t)).toBe(
      "Sign-in failed: Database down",
    );
  });
});
