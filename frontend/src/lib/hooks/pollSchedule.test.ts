import { describe, expect, it } from "vitest";
import { nextPollDelay, POLL_BASE_MS, POLL_MAX_MS } from "./pollSchedule";

describe("nextPollDelay", () => {
  it("polls at the base interval while healthy", () => {
    expect(nextPollDelay(0)).toBe(POLL_BASE_MS);
  });
  it("doubles after each failure and stops at the maximum", () => {
    expect(nextPollDelay(1, 1000, 60000)).toBe(2000);
    expect(nextPollDelay(2, 1000, 60000)).toBe(4000);
    expect(nextPollDelay(30, 1000, 60000)).toBe(60000);
    expect(nextPollDelay(100)).toBe(POLL_MAX_MS);
  });
});
