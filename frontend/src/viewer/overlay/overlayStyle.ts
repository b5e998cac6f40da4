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

/** Distinct for the common colour-vision deficiencies: blue vs red. */
export const CLASS_COLORS: Record<number, readonly [number, number, number]> = {
  [LABEL_BENIGN]: [30, 120, 255],
  [LABEL_METASTATIC]: [235, 40, 40],
};

export function cssColor(label: number): string {
  const c = CLASS_COLORS[label] ?? [255, 255, 255];
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}
