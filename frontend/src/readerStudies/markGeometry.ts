import type { AnswerLesion, LesionLabel, Location } from "../api/readerStudies";

/**
 * Pure geometry of the reader's marks, in image coordinates: planar marks are
 * (x = column, y = row) of the view's frame, SPECT/CT marks (x, y, z) voxel
 * indices of the fused volume's grid; integers are pixel/voxel centres. A box
 * keeps its smaller corner in (x, y, z) and its larger one in (x2, y2, z2).
 */

/** A point in continuous image-index space (planar: [col, row, 0]). */
export type Ijk = [number, number, number];

/** Below this drag distance (CSS pixels) a press on the image is a point, not a box. */
export const BOX_MIN_DRAG_PX = 4;

const round1 = (n: number) => Math.round(n * 10) / 10;

export function ijkOf(location: Location, corner: 1 | 2 = 1): Ijk {
  if (location.kind === "planar") {
    return corner === 2
      ? [location.x2 ?? location.x, location.y2 ?? location.y, 0]
      : [location.x, location.y, 0];
  }
  return corner === 2
    ? [location.x2 ?? location.x, location.y2 ?? location.y, location.z2 ?? location.z]
    : [location.x, location.y, location.z];
}

/** Clamps an index point into an image of `dimensions` (columns, rows, slices). */
export function clampIjk(ijk: Ijk, dimensions: ArrayLike<number>): Ijk {
  const clamp = (v: number, n: number | undefined) =>
    n === undefined || n < 1 ? Math.max(0, v) : Math.min(Math.max(0, v), n - 1);
  return [
    clamp(ijk[0], dimensions[0]),
    clamp(ijk[1], dimensions[1]),
    clamp(ijk[2], dimensions[2]),
  ];
}

/** Whether a continuous index lies on the image (within half a pixel of its edge pixels). */
export function insideImage(ijk: Ijk, dimensions: ArrayLike<number>): boolean {
  return ijk.every((v, axis) => {
    const n = dimensions[axis] ?? 1;
    return v >= -0.5 && v <= n - 0.5;
  });
}

/**
 * The box spanned by two corners of one view (the order of the drag does not
 * matter): the smaller corner first. Null when the corners are on different
 * views or kinds.
 */
export function boxFromCorners(a: Location, b: Location): Location | null {
  if (a.kind !== b.kind) return null;
  if (a.kind === "planar" && b.kind === "planar") {
    if (a.view !== b.view) return null;
    return {
      ...a,
      x: round1(Math.min(a.x, b.x)),
      y: round1(Math.min(a.y, b.y)),
      x2: round1(Math.max(a.x, b.x)),
      y2: round1(Math.max(a.y, b.y)),
    };
  }
  if (a.kind === "spectct" && b.kind === "spectct") {
    return {
      ...a,
      x: round1(Math.min(a.x, b.x)),
      y: round1(Math.min(a.y, b.y)),
      z: round1(Math.min(a.z, b.z)),
      x2: round1(Math.max(a.x, b.x)),
      y2: round1(Math.max(a.y, b.y)),
      z2: round1(Math.max(a.z, b.z)),
    };
  }
  return null;
}

/** Whether a mark belongs on the viewport named `view` (anterior, posterior, axial, ...). */
export function markOnView(location: Location, view: string): boolean {
  if (location.kind === "planar") return location.view === view;
  return view === "axial" || view === "coronal" || view === "sagittal";
}

/**
 * Whether the slab [lo, hi] (a mark's extent along the view's normal, in mm)
 * meets the displayed plane at `depth`, with half a slice of slack on each side.
 */
export function slabMeetsPlane(lo: number, hi: number, depth: number, halfSlice: number) {
  const a = Math.min(lo, hi) - halfSlice;
  const b = Math.max(lo, hi) + halfSlice;
  return depth >= a && depth <= b;
}

export const MARK_COLOURS: Record<LesionLabel, string> = {
  metastatic: "#e53935",
  benign: "#1e88e5",
};

/** The other label: what the reclassify button turns a mark into. */
export function otherLabel(label: LesionLabel): LesionLabel {
  return label === "benign" ? "metastatic" : "benign";
}

export function withLabel(
  lesions: AnswerLesion[],
  index: number,
  label: LesionLabel,
): AnswerLesion[] {
  return lesions.map((lesion, i) => (i === index ? { ...lesion, label } : lesion));
}

/** Short text of a mark's place in image coordinates, for the lists. */
export function locationText(lesion: AnswerLesion): string {
  const l = lesion.location;
  if (l.kind === "planar") {
    const a = `(${l.x}, ${l.y})`;
    return lesion.shape === "box"
      ? `${l.view} ${a}–(${l.x2}, ${l.y2})`
      : `${l.view} ${a}`;
  }
  const a = `(${l.x}, ${l.y}, ${l.z})`;
  return lesion.shape === "box" ? `${a}–(${l.x2}, ${l.y2}, ${l.z2})` : a;
}
