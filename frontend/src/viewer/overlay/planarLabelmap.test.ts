import { describe, expect, it } from "vitest";
import { lesionTarget, lesionTargets, planarLabelmap } from "./planarLabelmap";

describe("planarLabelmap", () => {
  const data = new Uint8Array([1, 1, 1, 1, 2, 2, 2, 2]); // 2 frames of 2 x 2
  it("splits the frames by their view names", () => {
    const out = planarLabelmap(
      [
        { sop_instance_uid: "1", frame: 2, view: "posterior" },
        { sop_instance_uid: "1", frame: 1, view: "anterior" },
      ],
      { shape: [2, 2, 2], data },
    );
    expect(Array.from(out?.frames.posterior ?? [])).toEqual([1, 1, 1, 1]);
    expect(Array.from(out?.frames.anterior ?? [])).toEqual([2, 2, 2, 2]);
    expect(out?.rows).toBe(2);
  });
  it("falls back to anterior then posterior", () => {
    const out = planarLabelmap([], { shape: [2, 2, 2], data });
    expect(Array.from(out?.frames.anterior ?? [])).toEqual([1, 1, 1, 1]);
  });
});

describe("lesionTarget", () => {
  it("prefers the anterior location", () => {
    expect(
      lesionTarget({
        anterior: { frame: 0, centroid: [10, 20], bbox: [] },
        posterior: { frame: 1, centroid: [10, 30], bbox: [] },
      }),
    ).toEqual({ view: "anterior", row: 10, col: 20 });
    expect(lesionTarget({ posterior: { centroid: [1, 2] } })).toEqual({
      view: "posterior",
      row: 1,
      col: 2,
    });
    expect(lesionTarget(null)).toBeNull();
    expect(lesionTarget({ slice: 3 })).toBeNull();
  });
});

describe("lesionTargets", () => {
  it("gives each view its own position", () => {
    expect(
      lesionTargets({
        anterior: { centroid: [10, 20] },
        posterior: { centroid: [10, 235] },
      }),
    ).toEqual({ anterior: { row: 10, col: 20 }, posterior: { row: 10, col: 235 } });
    expect(lesionTargets(null)).toEqual({});
  });
});
