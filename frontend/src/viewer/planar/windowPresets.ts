/**
 * Window presets for planar bone scans. NM pixel values are counts, not
 * Hounsfield units, and their range changes from scan to scan, so every
 * preset is a fraction of the image's robust maximum (a high percentile,
 * which keeps the bladder or an injection site from flattening the skeleton).
 */
export type PresetId = "auto" | "low" | "medium" | "high";

export interface VoiRange {
  lower: number;
  upper: number;
}

export interface CountStats {
  min: number;
  max: number;
  /** 99.5th percentile of the non-zero pixels. */
  robustMax: number;
}

export const PRESET_IDS: readonly PresetId[] = ["auto", "low", "medium", "high"];

/** Upper window limit as a fraction of the robust maximum. */
const PRESET_FRACTION: Record<Exclude<PresetId, "auto">, number> = {
  low: 0.35,
  medium: 0.7,
  high: 1.5,
};

export function presetVoi(preset: PresetId, stats: CountStats): VoiRange {
  const lower = Math.max(0, stats.min);
  if (preset === "auto") {
    return { lower, upper: Math.max(lower + 1, stats.robustMax) };
  }
  const upper = Math.min(stats.max, stats.robustMax * PRESET_FRACTION[preset]);
  return { lower, upper: Math.max(lower + 1, upper) };
}

/**
 * Min, max and the 99.5th percentile of the non-zero values, by a histogram
 * so that a 256 x 1024 scan costs one pass.
 */
export function countStats(pixels: ArrayLike<number>, percentile = 0.995): CountStats {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let nonZero = 0;
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i] ?? 0;
    if (v < min) min = v;
    if (v > max) max = v;
    if (v > 0) nonZero++;
  }
  if (pixels.length === 0) return { min: 0, max: 1, robustMax: 1 };
  if (nonZero === 0 || max <= 0) return { min, max, robustMax: Math.max(max, 1) };

  const bins = 4096;
  const histogram = new Uint32Array(bins);
  const scale = (bins - 1) / max;
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i] ?? 0;
    if (v > 0) histogram[Math.floor(v * scale)]! += 1;
  }
  const target = Math.ceil(nonZero * percentile);
  let seen = 0;
  let bin = 0;
  for (; bin < bins; bin++) {
    seen += histogram[bin] ?? 0;
    if (seen >= target) break;
  }
  const robustMax = Math.min(max, (bin + 1) / scale);
  return { min, max, robustMax: Math.max(robustMax, 1) };
}
