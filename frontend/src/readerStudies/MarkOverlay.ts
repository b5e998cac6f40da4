import { Enums, getEnabledElement, utilities, type Types } from "@cornerstonejs/core";
import type { AnswerLesion } from "../api/readerStudies";
import {
  ijkOf,
  MARK_COLOURS,
  markOnView,
  slabMeetsPlane,
  type Ijk,
} from "./markGeometry";

const VIEWPORT_SELECTOR = "[data-testid^='viewport-']";
const POINT_RADIUS_PX = 7;
const LINE_PX = 2;

/**
 * Draws the reader's marks (points and boxes, stored in image coordinates)
 * over every viewport of the reading screen, on a canvas of its own per
 * viewport, re-projected after every render so that they follow zoom, pan,
 * scrolling and resizes. It listens on the screen's viewer container in the
 * capture phase (Cornerstone's render events do not bubble), so it needs no
 * hook in the viewer and sees viewports created after it.
 */
export class MarkOverlay {
  private marks: AnswerLesion[] = [];
  private preview: AnswerLesion | null = null;
  private readonly elements = new Set<HTMLElement>();
  private readonly onRendered = (event: Event) => {
    const element = event.target;
    if (element instanceof HTMLElement && element.matches(VIEWPORT_SELECTOR)) {
      this.elements.add(element);
      this.draw(element);
    }
  };

  constructor(private readonly host: HTMLElement) {
    host.addEventListener(Enums.Events.IMAGE_RENDERED, this.onRendered, {
      capture: true,
    });
  }

  /** The marks to draw, and the one being dragged (drawn dashed), if any. */
  setMarks(marks: AnswerLesion[], preview: AnswerLesion | null = null): void {
    this.marks = marks;
    this.preview = preview;
    for (const element of this.host.querySelectorAll<HTMLElement>(VIEWPORT_SELECTOR)) {
      this.elements.add(element);
    }
    for (const element of [...this.elements]) {
      if (element.isConnected) this.draw(element);
      else this.elements.delete(element);
    }
  }

  private canvasFor(element: HTMLElement): HTMLCanvasElement {
    const existing = element.querySelector<HTMLCanvasElement>(
      ":scope > canvas.mark-overlay",
    );
    if (existing) return existing;
    const canvas = document.createElement("canvas");
    canvas.className = "mark-overlay";
    canvas.dataset.testid = "mark-overlay";
    // Set through the CSSOM (the CSP allows it): over the image and the AI overlay.
    Object.assign(canvas.style, {
      position: "absolute",
      inset: "0",
      width: "100%",
      height: "100%",
      pointerEvents: "none",
      zIndex: "3",
    });
    element.appendChild(canvas);
    return canvas;
  }

  private draw(element: HTMLElement): void {
    const canvas = this.canvasFor(element);
    const dpr = window.devicePixelRatio || 1;
    const width = Math.round(element.clientWidth * dpr);
    const height = Math.round(element.clientHeight * dpr);
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const view = (element.dataset.testid ?? "").replace(/^viewport-/, "");
    const projector = projectorFor(element);
    let drawn = 0;
    if (projector) {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      const all = this.preview ? [...this.marks, this.preview] : this.marks;
      all.forEach((mark, index) => {
        if (!markOnView(mark.location, view)) return;
        const preview = mark === this.preview;
        if (drawMark(ctx, projector, mark, preview ? null : index + 1, preview)) drawn++;
      });
    }
    // For tests and support: how many marks this viewport shows now.
    canvas.dataset.marks = String(drawn);
  }

  destroy(): void {
    this.host.removeEventListener(Enums.Events.IMAGE_RENDERED, this.onRendered, {
      capture: true,
    });
    for (const element of this.elements) {
      element.querySelector(":scope > canvas.mark-overlay")?.remove();
    }
    this.elements.clear();
  }
}

interface Projector {
  toCanvas: (ijk: Ijk) => Types.Point2;
  /** Distance (mm) of an index point from the displayed plane, along its normal. */
  depth: (ijk: Ijk) => number;
  halfSlice: number;
  volume: boolean;
}

/**
 * Image index -> canvas position of one viewport: the exact inverse of
 * `imagePointAt` (the same image data, index to world, world to canvas).
 */
function projectorFor(element: HTMLElement): Projector | null {
  let viewport: Types.IStackViewport | Types.IVolumeViewport;
  try {
    const enabled = getEnabledElement(element as HTMLDivElement);
    if (!enabled) return null;
    viewport = enabled.viewport as Types.IStackViewport | Types.IVolumeViewport;
  } catch {
    return null;
  }
  const data = viewport.getImageData();
  if (!data) return null;
  const camera = viewport.getCamera();
  const normal = camera.viewPlaneNormal ?? [0, 0, 1];
  const focal = camera.focalPoint ?? [0, 0, 0];
  const world = (ijk: Ijk) => utilities.transformIndexToWorld(data.imageData, ijk);
  const spacing = data.spacing ?? [1, 1, 1];
  return {
    toCanvas: (ijk) => viewport.worldToCanvas(world(ijk)),
    depth: (ijk) => {
      const w = world(ijk);
      return (
        (w[0] - focal[0]) * normal[0] +
        (w[1] - focal[1]) * normal[1] +
        (w[2] - focal[2]) * normal[2]
      );
    },
    halfSlice: Math.max(...spacing) / 2,
    volume: viewport.type !== Enums.ViewportType.STACK,
  };
}

function drawMark(
  ctx: CanvasRenderingContext2D,
  projector: Projector,
  mark: AnswerLesion,
  number: number | null,
  preview: boolean,
): boolean {
  const a = ijkOf(mark.location, 1);
  const b = mark.shape === "box" ? ijkOf(mark.location, 2) : a;
  if (
    projector.volume &&
    !slabMeetsPlane(projector.depth(a), projector.depth(b), 0, projector.halfSlice)
  ) {
    return false;
  }
  const p = projector.toCanvas(a);
  const q = projector.toCanvas(b);
  if (![...p, ...q].every(Number.isFinite)) return false;
  ctx.strokeStyle = MARK_COLOURS[mark.label];
  ctx.fillStyle = MARK_COLOURS[mark.label];
  ctx.lineWidth = LINE_PX;
  ctx.setLineDash(preview ? [6, 4] : []);
  ctx.beginPath();
  if (mark.shape === "box") {
    const x = Math.min(p[0], q[0]);
    const y = Math.min(p[1], q[1]);
    ctx.rect(x, y, Math.abs(q[0] - p[0]), Math.abs(q[1] - p[1]));
  } else {
    ctx.arc(p[0], p[1], POINT_RADIUS_PX, 0, 2 * Math.PI);
  }
  ctx.stroke();
  if (mark.shape !== "box") {
    ctx.beginPath();
    ctx.arc(p[0], p[1], 1.5, 0, 2 * Math.PI);
    ctx.fill();
  }
  if (number !== null) {
    ctx.font = "bold 12px sans-serif";
    const x = mark.shape === "box" ? Math.min(p[0], q[0]) : p[0] + POINT_RADIUS_PX + 2;
    const y = mark.shape === "box" ? Math.min(p[1], q[1]) - 4 : p[1] - POINT_RADIUS_PX;
    ctx.fillText(String(number), x, y);
  }
  return true;
}
