import { describe, expect, it } from "vitest";
import { countStats, presetVoi } from "./windowPresets";

describe("countStats", () => {
  it("finds min, max and a robust maximum that ignores a few hot pixels", () => {
    const pixels = new Uint16Array(10_000);
    for (let i = 0; i < pixels.length; i++) pixels[i] = 100 + (i % 100);
    // A bladder: 20 pixels at 10 000 counts.
    for (let i = 0; i < 20; i++) pixels[i] = 10_000;
    const stats = countStats(pixels);
    expect(stats.min).toBe(100);
    expect(stats.max).toBe(10_000);
    expect(stats.robustMax).toBeGreaterThanOrEqual(190);
    expect(stats.robustMax).toBeLessThan(260);
  });

  it("handles empty and all-zero images", () => {
    expect(countStats([])).toEqual({ min: 0, max: 1, robustMax: 1 });
    expect(countStats([0, 0, 0]).robustMax).toBe(1);
  });
});

describe("presetVoi", () => {
  const stats = { min: 0, max: 1000, robustMax: 400 };
  it("auto windows to the robust maximum", () => {
    expect(presetVoi("auto", stats)).toEqual({ lower: 0, upper: 400 });
  });
  it("low shows faint uptake by saturating early, high keeps hot spots apart", () => {
    const low = presetVoi("low", stats);
    const medium = presetVoi("medium", stats);
    const high = presetVoi("high", stats);
    expect(low.upper).toBeLessThan(medium.upper);
    expect(medium.upper).toBeLessThan(high.upper);
    expect(high.upper).toBeLessThanOrEqual(stats.max);
  });
  it("never returns an empty window", () => {
    const flat = { min: 5, max: 5, robustMax: 1 };
    for (const id of ["auto", "low", "medium", "high"] as const) {
      const voi = presetVoi(id, flat);
      expect(voi.upper).toBeGreaterThan(voi.lower);
    }
  });
});
