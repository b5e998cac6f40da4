import type { Types } from "@cornerstonejs/core";
import { strokeRing } from "./focusMarker";
import { ViewportCanvas } from "./ViewportCanvas";

/** A sphere round a finding, in world (patient) millimetres. */
export interface WorldMarker {
  centre: Types.Point3;
  radiusMm: number;
}

/**
 * Where a sphere cuts a view's plane: the circle's centre (in world coordinates) and
 * radius (mm), or null when the plane passes beside it. Pure geometry, so the rule "only
 * on the slices that cross the finding" is tested without a browser.
 */
export function sphereSection(
  marker: WorldMarker,
  focalPoint: Types.Point3,
  normal: Types.Point3,
): { centre: Types.Point3; radiusMm: number } | null {
  const length = Math.hypot(normal[0], normal[1], normal[2]) || 1;
  const n = [normal[0] / length, normal[1] / length, normal[2] / length];
  const c = marker.centre;
  const distance =
    (c[0] - focalPoint[0]) * (n[0] ?? 0) +
    (c[1] - focalPoint[1]) * (n[1] ?? 0) +
    (c[2] - focalPoint[2]) * (n[2] ?? 0);
  if (Math.abs(distance) > marker.radiusMm) return null;
  return {
    centre: [
      c[0] - distance * (n[0] ?? 0),
      c[1] - distance * (n[1] ?? 0),
      c[2] - distance * (n[2] ?? 0),
    ],
    radiusMm: Math.sqrt(marker.radiusMm ** 2 - distance ** 2),
  };
}

/**
 * Draws the ring round a finding without an outline over one VolumeViewport, on a canvas
 * of its own, redrawn after every render (scrolling, panning, zooming): the ring shows on
 * the slices that cross the finding and nowhere else.
 */
export class VolumeMarkerOverlay extends ViewportCanvas {
  private marker: WorldMarker | null = null;

  constructor(
    private readonly viewport: Types.IVolumeViewport,
    element: HTMLDivElement,
  ) {
    super(element, "marker-overlay");
  }

  setMarker(marker: WorldMarker | null): void {
    this.marker = marker;
    this.draw();
  }

  protected draw(): void {
    const drawing = this.cleared();
    if (!drawing) return;
    const { ctx, dpr } = drawing;
    delete this.canvas.dataset.marker;
    if (!this.marker) return;
    const { focalPoint, viewPlaneNormal, viewUp } = this.viewport.getCamera();
    if (!focalPoint || !viewPlaneNormal || !viewUp) return;
    const section = sphereSection(this.marker, focalPoint, viewPlaneNormal);
    if (!section) return;
    const centre = this.viewport.worldToCanvas(section.centre);
    const up = Math.hypot(viewUp[0], viewUp[1], viewUp[2]) || 1;
    const edge = this.viewport.worldToCanvas([
      section.centre[0] + (section.radiusMm * viewUp[0]) / up,
      section.centre[1] + (section.radiusMm * viewUp[1]) / up,
      section.centre[2] + (section.radiusMm * viewUp[2]) / up,
    ]);
    const radius =
      Math.max(Math.hypot(edge[0] - centre[0], edge[1] - centre[1]), 4) * dpr;
    strokeRing(ctx, centre[0] * dpr, centre[1] * dpr, radius, dpr);
    // For tests: the ring's centre and radius in CSS pixels of this view.
    this.canvas.dataset.marker = `${centre[0]},${centre[1]},${radius / dpr}`;
  }

  override destroy(): void {
    super.destroy();
    this.marker = null;
  }
}
