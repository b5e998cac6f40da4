import { describe, expect, it } from "vitest";
import type { HeldBackLesion, Lesion } from "../../api/inference";
import {
  heldBackLesions,
  probabilityPercent,
  sortedLesions,
  suppressedCount,
  volumeText,
} from "./lesionDisplay";

function lesion(
  id: number,
  class_name: string,
  probability: number,
  volume_ml: number,
): Lesion {
  return {
    id,
    label: class_name === "metastatic" ? 2 : 1,
    class_name,
    probability,
    area_px: null,
    area_mm2: null,
    volume_vox: null,
    volume_ml,
    max_counts: null,
    region: null,
    centroid: [0, 0, 0],
    bbox: [],
    locations: null,
  };
}

describe("lesion display", () => {
  it("lists metastatic lesions first, then by probability, then by size", () => {
    const order = sortedLesions([
      lesion(1, "benign", 0.9, 5),
      lesion(2, "metastatic", 0.6, 1),
      lesion(3, "metastatic", 0.8, 0.1),
      lesion(4, "benign", 0.9, 9),
    ]).map((l) => l.id);
    expect(order).toEqual([3, 2, 4, 1]);
  });

  it("never rounds a probability up to certainty", () => {
    expect(probabilityPercent(0.996)).toBe(">99");
    expect(probabilityPercent(0.004)).toBe("<1");
    expect(probabilityPercent(0.874)).toBe("87");
  });

  it("keeps two significant digits of small volumes", () => {
    expect(volumeText(0.0456)).toBe("0.046");
    expect(volumeText(0.5)).toBe("0.50");
    expect(volumeText(3.24)).toBe("3.2");
    expect(volumeText(12.6)).toBe("13");
  });

  it("counts the gate's removed lesions only when there are some", () => {
    expect(suppressedCount({ suppressed_outside_report: 3 })).toBe(3);
    expect(suppressedCount({ suppressed_outside_report: 0 })).toBe(0);
    expect(suppressedCount({ suppressed_outside_report: null })).toBe(0);
    expect(suppressedCount({})).toBe(0);
    expect(suppressedCount({ suppressed_outside_report: Number.NaN })).toBe(0);
  });

  it("counts the floor's removed lesions apart from the gate's", () => {
    const result = { suppressed_outside_report: 2, suppressed_below_floor: 5 };
    expect(suppressedCount(result, "suppressed_below_floor")).toBe(5);
    expect(suppressedCount(result)).toBe(2);
    expect(
      suppressedCount({ suppressed_below_floor: null }, "suppressed_below_floor"),
    ).toBe(0);
    expect(
      suppressedCount({ suppressed_outside_report: 4 }, "suppressed_below_floor"),
    ).toBe(0);
  });
});

describe("heldBackLesions", () => {
  const held = (id: number, cls: string, p: number, reason: string) =>
    ({ ...lesion(id, cls, p, 0.1), held_back: reason }) as HeldBackLesion;

  it("lists the held-back findings in the lesion list's order", () => {
    const result = {
      held_back: [
        held(5, "benign", 0.3, "below_floor"),
        held(6, "metastatic", 0.2, "outside_report"),
        held(7, "benign", 0.4, "below_floor"),
      ],
    };
    expect(heldBackLesions(result).map((l) => l.id)).toEqual([6, 7, 5]);
  });

  it("shows none for an older server, and none whose reason it cannot name", () => {
    expect(heldBackLesions({})).toEqual([]);
    expect(heldBackLesions({ held_back: null })).toEqual([]);
    expect(heldBackLesions({ held_back: [held(3, "benign", 0.2, "tomorrow")] })).toEqual(
      [],
    );
  });
});
