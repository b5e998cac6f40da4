import { describe, expect, it } from "vitest";
import {
  MIN_MARKER_RADIUS_MM,
  MIN_MARKER_RADIUS_PX,
  markerRadius,
  markerRadiusMm,
} from "./focusMarker";
import { sphereSection } from "./VolumeMarkerOverlay";

describe("markerRadius", () => {
  it("goes round a planar finding's box with a margin", () => {
    // 8 rows x 6 columns: half-diagonal 5, plus 3
    expect(markerRadius([10, 20, 18, 26])).toBeCloseTo(8);
  });
  it("reads the image plane of a volume box (rows, columns)", () => {
    expect(markerRadius([0, 10, 20, 40, 18, 26])).toBeCloseTo(8);
  });
  it("never draws a ring smaller than a visible one", () => {
    expect(markerRadius([5, 5, 6, 6])).toBe(MIN_MARKER_RADIUS_PX);
    expect(markerRadius([])).toBe(MIN_MARKER_RADIUS_PX);
  });
});

describe("markerRadiusMm", () => {
  it("measures the box in millimetres at the voxel spacing", () => {
    // 4 x 3 x 4 voxels at (3, 4, 3) mm = 12 x 12 x 12 mm: half-diagonal 6 * sqrt(3), plus 4
    expect(markerRadiusMm([10, 20, 30, 14, 23, 34], [3, 4, 3])).toBeCloseTo(
      6 * Math.sqrt(3) + 4,
    );
  });
  it("keeps a minimum and refuses a box of another shape", () => {
    expect(markerRadiusMm([1, 1, 1, 2, 2, 2], [1, 1, 1])).toBe(MIN_MARKER_RADIUS_MM);
    expect(markerRadiusMm([1, 1, 2, 2], [1, 1, 1])).toBe(MIN_MARKER_RADIUS_MM);
  });
});

describe("sphereSection", () => {
  const marker = { centre: [10, 20, 30] as [number, number, number], radiusMm: 10 };
  it("is the full circle on the plane through the centre", () => {
    const cut = sphereSection(marker, [0, 0, 30], [0, 0, 1]);
    expect(cut?.radiusMm).toBeCloseTo(10);
    expect(cut?.centre).toEqual([10, 20, 30]);
  });
  it("shrinks on planes beside the centre and projects the centre onto them", () => {
    const cut = sphereSection(marker, [0, 0, 36], [0, 0, -2]); // normal of any length
    expect(cut?.radiusMm).toBeCloseTo(8);
    expect(cut?.centre[2]).toBeCloseTo(36);
  });
  it("is absent on planes that miss the finding", () => {
    expect(sphereSection(marker, [0, 0, 41], [0, 0, 1])).toBeNull();
    expect(sphereSection(marker, [0, 31, 0], [0, 1, 0])).toBeNull();
  });
});
