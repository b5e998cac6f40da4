import { getEnabledElement, utilities, type Types } from "@cornerstonejs/core";
import type { Location } from "../api/readerStudies";

/** The frame number of a multi-frame image id (`...&frame=2` or `...?frame=2`), if any. */
export function frameOfImageId(imageId: string): number | undefined {
  const match = /[?&]frame=(\d+)/.exec(imageId);
  return match?.[1] ? Number(match[1]) : undefined;
}

/**
 * Where a click on a viewport lands in the image: stored in the image's own
 * pixel (planar) or voxel (SPECT/CT, the fused volume's CT grid) coordinates,
 * so that zoom, pan and window size never change a marked lesion. Null when
 * the element holds no viewport yet.
 */
export function imagePointAt(
  element: HTMLElement,
  clientX: number,
  clientY: number,
  view: string,
): Location | null {
  const enabled = getEnabledElement(element as HTMLDivElement);
  if (!enabled) return null;
  const viewport = enabled.viewport;
  const rect = element.getBoundingClientRect();
  const canvasPoint: Types.Point2 = [clientX - rect.left, clientY - rect.top];
  const world = viewport.canvasToWorld(canvasPoint);
  const round = (n: number) => Math.round(n * 10) / 10;
  if (
    "getCurrentImageId" in viewport &&
    typeof viewport.getCurrentImageId === "function"
  ) {
    const imageId = (viewport as Types.IStackViewport).getCurrentImageId();
    const xy = utilities.worldToImageCoords(imageId, world);
    if (!xy) return null;
    const frame = frameOfImageId(imageId);
    return {
      kind: "planar",
      view,
      x: round(xy[0]),
      y: round(xy[1]),
      ...(frame !== undefined ? { frame } : {}),
    };
  }
  const data = (viewport as Types.IVolumeViewport).getImageData();
  if (!data) return null;
  const ijk = utilities.transformWorldToIndex(data.imageData, world);
  return { kind: "spectct", x: ijk[0], y: ijk[1], z: ijk[2] };
}
