import { Enums as CoreEnums, utilities, type Types } from "@cornerstonejs/core";
import { labelmapRgba } from "./labelmapRgba";
import { DEFAULT_OVERLAY_STYLE, type OverlayStyle } from "./overlayStyle";

/**
 * Draws one label-map frame over a StackViewport on a canvas of its own,
 * re-projected after every render so it follows zoom, pan and resizes. A
 * canvas keeps the AI result independent of Cornerstone's segmentation
 * state: nothing to register globally, nothing to leak between cases.
 */
export class LabelmapCanvasOverlay {
  private readonly canvas: HTMLCanvasElement;
  private readonly source: HTMLCanvasElement;
  private labels: Uint8Array | null = null;
  private rows = 0;
  private cols = 0;
  private style: OverlayStyle = DEFAULT_OVERLAY_STYLE;
  private readonly onRendered = () => this.draw();

  constructor(
    private readonly viewport: Types.IStackViewport,
    private readonly element: HTMLDivElement,
  ) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "labelmap-overlay";
    this.canvas.dataset.testid = "labelmap-overlay";
    this.element.appendChild(this.canvas);
    this.source = document.createElement("canvas");
    this.element.addEventListener(CoreEnums.Events.IMAGE_RENDERED, this.onRendered);
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

  private draw(): void {
    const dpr = window.devicePixelRatio || 1;
    const width = Math.round(this.element.clientWidth * dpr);
    const height = Math.round(this.element.clientHeight * dpr);
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (!this.labels || !this.style.visible) return;
    const imageId = this.viewport.getCurrentImageId();
    if (!imageId) return;
    const toCanvas = (x: number, y: number): Types.Point2 | null => {
      const world = utilities.imageToWorldCoords(imageId, [x, y]);
      return world ? this.viewport.worldToCanvas(world) : null;
    };
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
    if (this.canvas.dataset.drawn !== "true") {
      // For tests and the viewer benchmark: when the AI result first became visible.
      this.canvas.dataset.drawn = "true";
      performance.mark("boneread:overlay-drawn");
    }
  }

  destroy(): void {
    this.element.removeEventListener(CoreEnums.Events.IMAGE_RENDERED, this.onRendered);
    this.canvas.remove();
    this.labels = null;
  }
}
