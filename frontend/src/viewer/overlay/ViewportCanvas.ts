import { Enums as CoreEnums } from "@cornerstonejs/core";

/**
 * A canvas of its own over one Cornerstone viewport's element, redrawn after every render
 * of that viewport (scroll, zoom, pan, resize), so what it draws follows the image. The
 * subclass says what to draw; this class owns the canvas, its size and its listener.
 */
export abstract class ViewportCanvas {
  protected readonly canvas: HTMLCanvasElement;
  private readonly onRendered = () => this.draw();

  protected constructor(
    protected readonly element: HTMLDivElement,
    testId: string,
  ) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "labelmap-overlay";
    this.canvas.dataset.testid = testId;
    this.element.appendChild(this.canvas);
    this.element.addEventListener(CoreEnums.Events.IMAGE_RENDERED, this.onRendered);
  }

  /** Sizes the canvas to its element in device pixels and clears it. */
  protected cleared(): { ctx: CanvasRenderingContext2D; dpr: number } | null {
    const dpr = window.devicePixelRatio || 1;
    const width = Math.round(this.element.clientWidth * dpr);
    const height = Math.round(this.element.clientHeight * dpr);
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return null;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, width, height);
    return { ctx, dpr };
  }

  protected abstract draw(): void;

  destroy(): void {
    this.element.removeEventListener(CoreEnums.Events.IMAGE_RENDERED, this.onRendered);
    this.canvas.remove();
  }
}
