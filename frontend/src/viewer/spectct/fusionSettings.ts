import type { VoiRange } from "../planar/windowPresets";

/** What the user can change in the fused views. */
export type FusionMode = "fused" | "ct" | "spect";

export type CtPresetId = "softTissue" | "bone";

export const CT_PRESETS: Record<CtPresetId, VoiRange> = {
  softTissue: { lower: -160, upper: 240 },
  bone: { lower: -450, upper: 1050 },
};

export const SPECT_COLORMAP = "Black-Body Radiation";
/**
 * SPECT opacity over the CT by default (the slider is linear: see
 * SpectCtController.linearSpectOpacity). Below 1 the CT anatomy shows
 * through the uptake, which is what fusion is for.
 */
export const DEFAULT_SPECT_OPACITY = 0.7;

/**
 * The SPECT window from its robust maximum: `level` (0.1–1.5) scales the
 * upper limit; counts below `floor` of the window are transparent so that
 * the CT shows through where there is no uptake.
 */
export function spectWindow(
  robustMax: number,
  level: number,
  floor = 0.25,
): { voi: VoiRange; threshold: number } {
  const clamped = Math.min(1.5, Math.max(0.1, level));
  const upper = Math.max(1e-3, robustMax * clamped);
  return { voi: { lower: 0, upper }, threshold: upper * floor };
}
