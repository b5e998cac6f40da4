import { describe, expect, it } from "vitest";
import { labelmapRgba } from "./labelmapRgba";
import { DEFAULT_OVERLAY_STYLE, type OverlayStyle } from "./overlayStyle";

// 4 x 4: a 3 x 3 metastatic block in the top-left, one benign pixel at the bottom right.
const labels = new Uint8Array([2, 2, 2, 0, 2, 2, 2, 0, 2, 2, 2, 0, 0, 0, 0, 1]);
const px = (rgba: Uint8ClampedArray, r: number, c: number) =>
  Array.from(rgba.slice((r * 4 + c) * 4, (r * 4 + c) * 4 + 4));

describe("labelmapRgba", () => {
  it("colours each class differently and leaves the background clear", () => {
    const rgba = labelmapRgba(labels, 4, 4, DEFAULT_OVERLAY_STYLE);
    const met = px(rgba, 0, 0);
    const ben = px(rgba, 3, 3);
    expect(met[3]).toBeGreaterThan(0);
    expect(ben[3]).toBeGreaterThan(0);
    expect(met.slice(0, 3)).not.toEqual(ben.slice(0, 3));
    expect(px(rgba, 0, 3)).toEqual([0, 0, 0, 0]);
  });

  it("hides a class that is switched off, and everything when hidden", () => {
    const style: OverlayStyle = {
      ...DEFAULT_OVERLAY_STYLE,
      classes: { benign: true, metastatic: false },
    };
    const rgba = labelmapRgba(labels, 4, 4, style);
    expect(px(rgba, 0, 0)[3]).toBe(0);
    expect(px(rgba, 3, 3)[3]).toBeGreaterThan(0);
    const none = labelmapRgba(labels, 4, 4, { ...DEFAULT_OVERLAY_STYLE, visible: false });
    expect(none.every((v) => v === 0)).toBe(true);
  });

  it("draws only the border in outline mode", () => {
    const rgba = labelmapRgba(labels, 4, 4, { ...DEFAULT_OVERLAY_STYLE, outline: true });
    expect(px(rgba, 1, 1)[3]).toBe(0); // inside the block
    expect(px(rgba, 0, 1)[3]).toBe(255); // on its edge
    expect(px(rgba, 1, 2)[3]).toBe(255); // next to background
  });

  it("applies the opacity to filled pixels", () => {
    const rgba = labelmapRgba(labels, 4, 4, { ...DEFAULT_OVERLAY_STYLE, opacity: 0.2 });
    expect(px(rgba, 0, 0)[3]).toBe(51);
  });
});
