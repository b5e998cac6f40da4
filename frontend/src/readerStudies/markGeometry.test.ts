import { describe, expect, it } from "vitest";
import type { Location } from "../api/readerStudies";
import {
  boxFromCorners,
  clampIjk,
  ijkOf,
  insideImage,
  locationText,
  markOnView,
  otherLabel,
  slabMeetsPlane,
  withLabel,
} from "./markGeometry";

const planar = (x: number, y: number, view = "anterior"): Location => ({
  kind: "planar",
  view,
  x,
  y,
  frame: 1,
});

describe("boxFromCorners", () => {
  it("keeps the smaller corner first whatever the drag direction", () => {
    expect(boxFromCorners(planar(170.26, 580.04), planar(90, 440.5))).toEqual({
      kind: "planar",
      view: "anterior",
      frame: 1,
      x: 90,
      y: 440.5,
      x2: 170.3,
      y2: 580,
    });
  });

  it("spans a SPECT/CT box over the voxels of both corners", () => {
    const box = boxFromCorners(
      { kind: "spectct", x: 40, y: 12, z: 64 },
      { kind: "spectct", x: 30, y: 20, z: 64 },
    );
    expect(box).toEqual({ kind: "spectct", x: 30, y: 12, z: 64, x2: 40, y2: 20, z2: 64 });
  });

  it("refuses corners on two different views", () => {
    expect(boxFromCorners(planar(1, 2), planar(3, 4, "posterior"))).toBeNull();
    expect(
      boxFromCorners(planar(1, 2), { kind: "spectct", x: 1, y: 2, z: 3 }),
    ).toBeNull();
  });
});

describe("image bounds", () => {
  const dims = [256, 1024, 1];
  it("clamps a far corner onto the image", () => {
    expect(clampIjk([-3.2, 1030, 0.4], dims)).toEqual([0, 1023, 0]);
  });
  it("takes half a pixel beyond the edge pixels as on the image, more as off it", () => {
    expect(insideImage([-0.5, 1023.5, 0], dims)).toBe(true);
    expect(insideImage([-0.6, 10, 0], dims)).toBe(false);
    expect(insideImage([10, 1024, 0], dims)).toBe(false);
  });
});

describe("ijkOf", () => {
  it("reads a planar box's corners as [col, row, 0]", () => {
    const box: Location = { kind: "planar", view: "anterior", x: 1, y: 2, x2: 3, y2: 4 };
    expect(ijkOf(box, 1)).toEqual([1, 2, 0]);
    expect(ijkOf(box, 2)).toEqual([3, 4, 0]);
    // A point's second corner is the point itself.
    expect(ijkOf(planar(5, 6), 2)).toEqual([5, 6, 0]);
  });
});

describe("which view shows a mark", () => {
  it("draws a planar mark on its own view only, a volume mark on the slice views", () => {
    expect(markOnView(planar(1, 1), "anterior")).toBe(true);
    expect(markOnView(planar(1, 1), "posterior")).toBe(false);
    const voxel: Location = { kind: "spectct", x: 1, y: 1, z: 1 };
    expect(markOnView(voxel, "axial")).toBe(true);
    expect(markOnView(voxel, "anterior")).toBe(false);
  });

  it("shows a volume mark only on the slices it crosses (half a slice of slack)", () => {
    expect(slabMeetsPlane(2, 2, 0, 1.5)).toBe(false);
    expect(slabMeetsPlane(1.4, 1.4, 0, 1.5)).toBe(true);
    expect(slabMeetsPlane(-6, 9, 0, 1.5)).toBe(true);
    expect(slabMeetsPlane(9, -6, 0, 1.5)).toBe(true);
  });
});

describe("reclassify and describe", () => {
  it("flips one mark's label and leaves the others", () => {
    const lesions = [
      {
        label: "benign" as const,
        shape: "point" as const,
        location: planar(1, 2),
        ai_lesion_id: null,
      },
      {
        label: "metastatic" as const,
        shape: "point" as const,
        location: planar(3, 4),
        ai_lesion_id: null,
      },
    ];
    const next = withLabel(lesions, 0, otherLabel(lesions[0]!.label));
    expect(next.map((l) => l.label)).toEqual(["metastatic", "metastatic"]);
    expect(lesions[0]!.label).toBe("benign");
  });

  it("writes a box as its two corners", () => {
    expect(
      locationText({
        label: "benign",
        shape: "box",
        location: { kind: "planar", view: "anterior", x: 1, y: 2, x2: 3, y2: 4 },
        ai_lesion_id: null,
      }),
    ).toBe("anterior (1, 2)–(3, 4)");
  });
});
