/** How the AI label map is drawn: per-class visibility, one opacity, fill or outline. */
export interface OverlayStyle {
  visible: boolean;
  classes: { benign: boolean; metastatic: boolean };
  opacity: number;
  outline: boolean;
}

export const DEFAULT_OVERLAY_STYLE: OverlayStyle = {
  visible: true,
  classes: { benign: true, metastatic: true },
  opacity: 0.55,
  outline: false,
};

/** Label values in the map (0 is background). */
export const LABEL_BENIGN = 1;
export const LABEL_METASTATIC = 2;

/**
 * Class colours chosen outside every colour map the viewer draws images in:
 * the grey scales (planar, inverted or not; CT; SPECT alone) and the SPECT
 * "Black-Body Radiation" map (black -> red -> yellow -> white). Green and
 * magenta are about 200 RGB units from all of them (red, the obvious choice
 * for metastases, vanished over hot SPECT uptake), and they stay apart for
 * protan, deutan and tritan colour vision (green turns olive, magenta blue).
 */
export const CLASS_COLORS: Record<number, readonly [number, number, number]> = {
  [LABEL_BENIGN]: [0, 220, 0],
  [LABEL_METASTATIC]: [255, 0, 255],
};

export function cssColor(label: number): string {
  const c = CLASS_COLORS[label] ?? [255, 255, 255];
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}
