import { describe, expect, it } from "vitest";
import { spectWindow } from "./fusionSettings";

describe("spectWindow", () => {
  it("scales the upper limit with the level and hides counts below the floor", () => {
    const w = spectWindow(200, 1);
    expect(w.voi).toEqual({ lower: 0, upper: 200 });
    expect(w.threshold).toBeCloseTo(50);
    expect(spectWindow(200, 0.5).voi.upper).toBe(100);
  });
  it("keeps the level in range", () => {
    expect(spectWindow(100, 10).voi.upper).toBe(150);
    expect(spectWindow(100, 0).voi.upper).toBe(10);
  });
});
