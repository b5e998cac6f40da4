import { getEnabledElement, utilities, type Types } from "@cornerstonejs/core";
import type { Location } from "../api/readerStudies";
import { clampIjk, insideImage, type Ijk } from "./markGeometry";

/** The frame number of a multi-frame image id (`...&frame=2` or `...?frame=2`), if any. */
export function frameOfImageId(imageId: string): number | undefined {
  const match = /[?&]frame=(\d+)/.exec(imageId);
  return match?.[1] ? Number(match[1]) : undefined;
}

/**
 * Where a click on a viewport lands in the image: stored in the image's own
 * pixel (planar: column x, row y) or voxel (SPECT/CT: the fused volume's grid) coordinates,
 * so that zoom, pan and window size never change a marked lesion. Null when
 * the element holds no viewport yet, or when the point is off the image
 * (unless `clampToImage`, used for the far corner of a box: it is moved onto
 * the image's edge).
 */
export function imagePointAt(
  element: HTMLElement,
  clientX: number,
  clientY: number,
  view: string,
  { clampToImage = false }: { clampToImage?: boolean } = {},
): Location | null {
  const enabled = getEnabledElement(element as HTMLDivElement);
  if (!enabled) return null;
  const viewport = enabled.viewport;
  const rect = element.getBoundingClientRect();
  const canvasPoint: Types.Point2 = [clientX - rect.left, clientY - rect.top];
  const world = viewport.canvasToWorld(canvasPoint);
  const round = (n: number) => Math.round(n * 10) / 10;
  // The viewport's own image data maps world to pixel/voxel index; it exists for planar NM
  // too, which has no image position/orientation for worldToImageCoords to use.
  const data = (viewport as Types.IStackViewport | Types.IVolumeViewport).getImageData();
  if (!data) return null;
  const raw = utilities.transformWorldToIndexContinuous(data.imageData, world);
  if (!raw.every(Number.isFinite)) return null;
  const dimensions = data.dimensions;
  let ijk: Ijk = [raw[0], raw[1], raw[2]];
  if (clampToImage) ijk = clampIjk(ijk, dimensions);
  else if (!insideImage(ijk, dimensions)) return null;
  // Half a pixel outside the edge pixels' centres still names the edge pixel.
  ijk = clampIjk(ijk, dimensions);
  if (view === "axial" || view === "coronal" || view === "sagittal") {
    return { kind: "spectct", x: round(ijk[0]), y: round(ijk[1]), z: round(ijk[2]) };
  }
  const imageId =
    "getCurrentImageId" in viewport && typeof viewport.getCurrentImageId === "function"
      ? (viewport as Types.IStackViewport).getCurrentImageId()
      : "";
  const frame = frameOfImageId(imageId);
  return {
    kind: "planar",
    view,
    x: round(ijk[0]),
    y: round(ijk[1]),
    ...(frame !== undefined ? { frame } : {}),
  };
}
