import type { HeldBackLesion, Lesion } from "../../api/inference";

/**
 * The lesion list's order: metastatic lesions first (what changes the
 * patient's management), then the more probable, then the larger.
 */
export function sortedLesions(lesions: readonly Lesion[]): Lesion[] {
  const rank = (l: Lesion) => (l.class_name === "metastatic" ? 0 : 1);
  const size = (l: Lesion) => l.volume_ml ?? l.area_mm2 ?? l.area_px ?? 0;
  return [...lesions].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      b.probability - a.probability ||
      size(b) - size(a) ||
      a.id - b.id,
  );
}

/**
 * A probability in percent as the model returns it, rounded so that it never
 * claims certainty it did not give: 99.6 % is ">99", not "100"; 0.3 % is "<1".
 */
export function probabilityPercent(probability: number): string {
  const percent = probability * 100;
  if (percent > 99) return ">99";
  if (percent < 1) return "<1";
  return String(Math.round(percent));
}

/**
 * A volume in ml with two significant digits below 10 ml (a 3 x 3.9 x 3.9 mm
 * voxel is 0.046 ml: "0.0 ml" hid every small lesion), whole ml above.
 */
export function volumeText(ml: number): string {
  if (ml <= 0) return "0";
  if (ml >= 10) return String(Math.round(ml));
  const digits = Math.max(0, 1 - Math.floor(Math.log10(ml)));
  return ml.toFixed(Math.min(digits, 3));
}

/**
 * How many lesions the model's post-processing left out of the list: by the
 * report-site gate (unlikely lesions outside every site the report names) or
 * by the lesion-probability floor. 0 when none, or when the model has no such
 * step or the server is older.
 */
export function suppressedCount(
  result: {
    suppressed_outside_report?: number | null;
    suppressed_below_floor?: number | null;
  },
  step:
    "suppressed_outside_report" | "suppressed_below_floor" = "suppressed_outside_report",
): number {
  const n = result[step];
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

/** A finding the model held back (in neither the label map nor the SEG: no outline). */
export function isHeldBack(lesion: Lesion | HeldBackLesion): lesion is HeldBackLesion {
  return "held_back" in lesion && typeof lesion.held_back === "string";
}

/**
 * The findings the model's floor or report-site gate held back, in the list's
 * order; only those with a known reason (an older server sends none).
 */
export function heldBackLesions(result: {
  held_back?: readonly HeldBackLesion[] | null;
}): HeldBackLesion[] {
  const known = (result.held_back ?? []).filter(
    (l) => l.held_back === "below_floor" || l.held_back === "outside_report",
  );
  return sortedLesions(known) as HeldBackLesion[];
}
