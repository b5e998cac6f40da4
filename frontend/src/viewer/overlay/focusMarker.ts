/**
 * The ring drawn around a finding that has no outline on the image: one the model
 * held back (below the release's probability floor, or outside the report's sites) is
 * in neither the label map nor the SEG, so after the view moves to it a reader would
 * otherwise have to find a small spot unaided.
 */

/**
 * Cyan: away from the class colours (green, magenta), from every grey of the planar and CT
 * windows and from the SPECT "Black-Body Radiation" map (black, red, yellow, white).
 */
export const MARKER_COLOR = "rgb(0, 190, 255)";

/** The smallest ring, in image pixels (a one-pixel finding still gets a visible ring). */
export const MIN_MARKER_RADIUS_PX = 6;

/** A ring centred on (row, col) of a planar view, in that view's stored pixels. */
export interface PixelMarker {
  row: number;
  col: number;
  radius: number;
}

/**
 * The ring's radius for a lesion's bounding box ([start..., stop...], stop exclusive, as the
 * API gives it): the box's half-diagonal in its two last axes (the image plane) plus a margin,
 * so the ring goes round the finding instead of over it.
 */
export function markerRadius(bbox: readonly number[], margin = 3): number {
  const half = bbox.length / 2;
  if (!Number.isInteger(half) || half < 2) return MIN_MARKER_RADIUS_PX;
  const rows = (bbox[half + half - 2] ?? 0) - (bbox[half - 2] ?? 0);
  const cols = (bbox[half + half - 1] ?? 0) - (bbox[half - 1] ?? 0);
  const diagonal = Math.hypot(Math.max(rows, 0), Math.max(cols, 0));
  return Math.max(MIN_MARKER_RADIUS_PX, diagonal / 2 + margin);
}

/** The smallest sphere, in mm (about two SPECT voxels). */
export const MIN_MARKER_RADIUS_MM = 8;

/**
 * A volume finding's sphere radius (mm): half the diagonal of its bounding box
 * ([z0, y0, x0, z1, y1, x1] in voxels) at the voxel spacing (z, y, x in mm), plus a margin.
 */
export function markerRadiusMm(
  bbox: readonly number[],
  spacingZyx: readonly [number, number, number],
  marginMm = 4,
): number {
  if (bbox.length !== 6) return MIN_MARKER_RADIUS_MM;
  const extents = [0, 1, 2].map(
    (axis) => Math.max((bbox[axis + 3] ?? 0) - (bbox[axis] ?? 0), 0) * spacingZyx[axis]!,
  );
  const diagonal = Math.hypot(...extents);
  return Math.max(MIN_MARKER_RADIUS_MM, diagonal / 2 + marginMm);
}

/** Strokes the ring (dashed, 2 CSS pixels wide at any zoom) at canvas pixels (x, y). */
export function strokeRing(
  ctx: CanvasRenderingContext2D,
  x: number,
  y: number,
  radius: number,
  dpr: number,
): void {
  ctx.save();
  ctx.strokeStyle = MARKER_COLOR;
  ctx.lineWidth = 2 * dpr;
  ctx.setLineDash([6 * dpr, 4 * dpr]);
  ctx.beginPath();
  ctx.arc(x, y, radius, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.restore();
}
