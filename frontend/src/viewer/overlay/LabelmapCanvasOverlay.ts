import { utilities, type Types } from "@cornerstonejs/core";
import { strokeRing, type PixelMarker } from "./focusMarker";
import { labelmapRgba } from "./labelmapRgba";
import { DEFAULT_OVERLAY_STYLE, type OverlayStyle } from "./overlayStyle";
import { ViewportCanvas } from "./ViewportCanvas";

/**
 * Draws one label-map frame over a StackViewport on a canvas of its own,
 * re-projected after every render so it follows zoom, pan and resizes. A
 * canvas keeps the AI result independent of Cornerstone's segmentation
 * state: nothing to register globally, nothing to leak between cases. It also
 * draws the ring around a finding that has no outline (setMarker), whether or not
 * the label map is shown.
 */
export class LabelmapCanvasOverlay extends ViewportCanvas {
  private readonly source: HTMLCanvasElement;
  private labels: Uint8Array | null = null;
  private rows = 0;
  private cols = 0;
  private style: OverlayStyle = DEFAULT_OVERLAY_STYLE;
  private marker: PixelMarker | null = null;

  constructor(
    private readonly viewport: Types.IStackViewport,
    element: HTMLDivElement,
  ) {
    super(element, "labelmap-overlay");
    this.source = document.createElement("canvas");
  }

  setLabels(labels: Uint8Array | null, rows: number, cols: number): void {
    this.labels = labels;
    this.rows = rows;
    this.cols = cols;
    this.rebuild();
  }

  setStyle(style: OverlayStyle): void {
    this.style = style;
    this.rebuild();
  }

  /** A ring around (row, col) of this view's pixels; null removes it. */
  setMarker(marker: PixelMarker | null): void {
    this.marker = marker;
    if (marker) {
      this.canvas.dataset.marker = `${marker.row},${marker.col},${marker.radius}`;
    } else {
      delete this.canvas.dataset.marker;
    }
    this.draw();
  }

  private rebuild(): void {
    if (this.labels && this.rows > 0 && this.cols > 0) {
      this.source.width = this.cols;
      this.source.height = this.rows;
      const ctx = this.source.getContext("2d");
      const rgba = labelmapRgba(this.labels, this.rows, this.cols, this.style);
      ctx?.putImageData(new ImageData(rgba, this.cols, this.rows), 0, 0);
    }
    this.draw();
  }

  protected draw(): void {
    const drawing = this.cleared();
    if (!drawing) return;
    const { ctx, dpr } = drawing;
    const showLabels = this.labels !== null && this.style.visible;
    if (!showLabels && !this.marker) return;
    const imageId = this.viewport.getCurrentImageId();
    if (!imageId) return;
    const toCanvas = (x: number, y: number): Types.Point2 | null => {
      const world = utilities.imageToWorldCoords(imageId, [x, y]);
      return world ? this.viewport.worldToCanvas(world) : null;
    };
    if (showLabels) this.drawLabels(ctx, toCanvas, dpr);
    if (this.marker) this.drawMarker(ctx, this.marker, toCanvas, dpr);
  }

  private drawLabels(
    ctx: CanvasRenderingContext2D,
    toCanvas: (x: number, y: number) => Types.Point2 | null,
    dpr: number,
  ): void {
    const origin = toCanvas(0, 0);
    const right = toCanvas(this.cols, 0);
    const down = toCanvas(0, this.rows);
    if (!origin || !right || !down) return;
    ctx.imageSmoothingEnabled = false;
    ctx.setTransform(
      (dpr * (right[0] - origin[0])) / this.cols,
      (dpr * (right[1] - origin[1])) / this.cols,
      (dpr * (down[0] - origin[0])) / this.rows,
      (dpr * (down[1] - origin[1])) / this.rows,
      dpr * origin[0],
      dpr * origin[1],
    );
    ctx.drawImage(this.source, 0, 0);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (this.canvas.dataset.drawn !== "true") {
      // For tests and the viewer benchmark: when the AI result first became visible.
      this.canvas.dataset.drawn = "true";
      performance.mark("boneread:overlay-drawn");
    }
  }

  /** The ring in screen pixels: its width stays the same at every zoom. */
  private drawMarker(
    ctx: CanvasRenderingContext2D,
    marker: PixelMarker,
    toCanvas: (x: number, y: number) => Types.Point2 | null,
    dpr: number,
  ): void {
    const centre = toCanvas(marker.col + 0.5, marker.row + 0.5);
    const edge = toCanvas(marker.col + 0.5 + marker.radius, marker.row + 0.5);
    if (!centre || !edge) return;
    const radius = Math.hypot(edge[0] - centre[0], edge[1] - centre[1]) * dpr;
    strokeRing(ctx, centre[0] * dpr, centre[1] * dpr, radius, dpr);
  }

  override destroy(): void {
    super.destroy();
    this.labels = null;
  }
}
