import {
  CLASS_COLORS,
  LABEL_BENIGN,
  LABEL_METASTATIC,
  type OverlayStyle,
} from "./overlayStyle";

function shown(label: number, style: OverlayStyle): boolean {
  if (label === LABEL_BENIGN) return style.classes.benign;
  if (label === LABEL_METASTATIC) return style.classes.metastatic;
  return false;
}

/**
 * RGBA pixels (rows x cols) for one label-map frame: each shown class in its
 * colour at the style's opacity; in outline mode only the pixels on a
 * class's border (a 4-neighbour with another label, or the image edge), drawn
 * opaque so a thin line stays visible.
 */
export function labelmapRgba(
  labels: Uint8Array,
  rows: number,
  cols: number,
  style: OverlayStyle,
): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(new ArrayBuffer(rows * cols * 4));
  if (!style.visible) return out;
  const alpha = Math.round(
    255 * Math.min(1, Math.max(0, style.outline ? 1 : style.opacity)),
  );
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const label = labels[i] ?? 0;
      if (label === 0 || !shown(label, style)) continue;
      if (style.outline) {
        const edge =
          r === 0 ||
          c === 0 ||
          r === rows - 1 ||
          c === cols - 1 ||
          labels[i - 1] !== label ||
          labels[i + 1] !== label ||
          labels[i - cols] !== label ||
          labels[i + cols] !== label;
        if (!edge) continue;
      }
      const color = CLASS_COLORS[label];
      if (!color) continue;
      out[i * 4] = color[0];
      out[i * 4 + 1] = color[1];
      out[i * 4 + 2] = color[2];
      out[i * 4 + 3] = alpha;
    }
  }
  return out;
}
