import type { Labelmap, LabelmapFrame } from "../../api/inference";

/** "…objectUID=1.2.3&…" -> "1.2.3" (the SOP instance UID in a WADO-URI image id). */
export function objectUidOf(imageId: string): string | null {
  const match = /[?&]objectUID=([^&]+)/.exec(imageId);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

/**
 * Lays the label map's frames (one per CT slice, named by SOP instance UID)
 * into the order of the CT volume's image ids, which Cornerstone sorts along
 * the slice normal. Frames whose slice is not in the volume are skipped.
 */
export function labelmapInVolumeOrder(
  labelmap: Labelmap,
  frames: LabelmapFrame[],
  volumeImageIds: string[],
): Uint8Array | null {
  const [depth, rows, cols] = labelmap.shape;
  if (labelmap.shape.length !== 3 || !depth || !rows || !cols) return null;
  const plane = rows * cols;
  const index = new Map<string, number>();
  volumeImageIds.forEach((id, k) => {
    const uid = objectUidOf(id);
    if (uid) index.set(uid, k);
  });
  const out = new Uint8Array(volumeImageIds.length * plane);
  for (let i = 0; i < depth; i++) {
    const uid = frames[i]?.sop_instance_uid;
    const k = uid === undefined ? undefined : index.get(uid);
    if (k === undefined) continue;
    out.set(labelmap.data.subarray(i * plane, (i + 1) * plane), k * plane);
  }
  return out;
}

/**
 * A SPECT/CT lesion's voxel in the CT volume: [column, row, slice] in the
 * volume's own slice order, from the lesion's centroid [slice, row, col] on
 * the label map grid and the SOP instance UID the backend names for it.
 */
export function lesionVoxel(
  centroid: number[],
  locations: Record<string, unknown> | null,
  frames: LabelmapFrame[],
  volumeImageIds: string[],
): [number, number, number] | null {
  const [slice, row, col] = centroid;
  if (slice === undefined || row === undefined || col === undefined) return null;
  const named = locations?.sop_instance_uid;
  const uid =
    typeof named === "string" ? named : frames[Math.round(slice)]?.sop_instance_uid;
  if (uid === undefined) return null;
  const k = volumeImageIds.findIndex((id) => objectUidOf(id) === uid);
  return k < 0 ? null : [col, row, k];
}
