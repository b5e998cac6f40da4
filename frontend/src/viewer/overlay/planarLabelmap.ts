import type { AiResult, Labelmap } from "../../api/inference";

export type PlanarView = "anterior" | "posterior";

export interface PlanarLabelmap {
  frames: Partial<Record<PlanarView, Uint8Array>>;
  rows: number;
  cols: number;
}

/**
 * Splits a planar label map (frames x rows x cols) into its views, using the
 * result's frame list to know which frame is which; without a view name the
 * first frame is anterior and the second posterior.
 */
export function planarLabelmap(
  frames: AiResult["labelmap"]["frames"],
  labelmap: Labelmap,
): PlanarLabelmap | null {
  const [count, rows, cols] =
    labelmap.shape.length === 3 ? labelmap.shape : [1, ...labelmap.shape];
  if (!count || !rows || !cols) return null;
  const size = rows * cols;
  const out: PlanarLabelmap = { frames: {}, rows, cols };
  for (let i = 0; i < count; i++) {
    const named = frames[i]?.view;
    const view: PlanarView | null =
      named === "anterior" || named === "posterior"
        ? named
        : i === 0
          ? "anterior"
          : i === 1
            ? "posterior"
            : null;
    if (view === null || out.frames[view]) continue;
    out.frames[view] = labelmap.data.subarray(i * size, (i + 1) * size);
  }
  return out;
}

/** Where to look for a planar lesion: [row, col] in a view's stored pixels. */
export function lesionTarget(
  locations: Record<string, unknown> | null,
): { view: PlanarView; row: number; col: number } | null {
  if (!locations) return null;
  for (const view of ["anterior", "posterior"] as const) {
    const loc = locations[view];
    if (typeof loc !== "object" || loc === null) continue;
    const centroid = (loc as { centroid?: unknown }).centroid;
    if (
      Array.isArray(centroid) &&
      typeof centroid[0] === "number" &&
      typeof centroid[1] === "number"
    ) {
      return { view, row: centroid[0], col: centroid[1] };
    }
  }
  return null;
}

/** A planar lesion in each view that locates it (the posterior one is mirrored by the server). */
export function lesionTargets(
  locations: Record<string, unknown> | null,
): Partial<Record<PlanarView, { row: number; col: number }>> {
  const out: Partial<Record<PlanarView, { row: number; col: number }>> = {};
  if (!locations) return out;
  for (const view of ["anterior", "posterior"] as const) {
    const target = lesionTarget({ [view]: locations[view] });
    if (target) out[view] = { row: target.row, col: target.col };
  }
  return out;
}
