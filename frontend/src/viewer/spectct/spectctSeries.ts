import type { InstanceInfo, SeriesInfo, StudyDetail } from "../../api/studies";
import { absoluteWadoUrl, wadoImageId } from "../imageIds";

export interface VolumeSource {
  seriesUid: string;
  /** Files to prefetch (absolute WADO URLs). */
  urls: string[];
  /** One image id per slice: single-frame instances, or the frames of one multi-frame object. */
  imageIds: string[];
  /** The SOP instance UID of each of `urls`. */
  sopInstanceUids: string[];
  /**
   * The whole series in one WADO-RS request (DICOMweb), for series of many
   * single-frame files; null when there is one file.
   */
  seriesUrl: string | null;
}

export interface SpectCtSources {
  ct: VolumeSource | null;
  spect: VolumeSource | null;
}

const SEGMENTATION_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4";

function byInstanceNumber(a: InstanceInfo, b: InstanceInfo): number {
  return (a.instance_number ?? 0) - (b.instance_number ?? 0);
}

function seriesUrl(study: StudyDetail, series: SeriesInfo): string {
  const path =
    `/dicomweb/studies/${encodeURIComponent(study.study_instance_uid)}` +
    `/series/${encodeURIComponent(series.series_instance_uid)}`;
  return typeof window !== "undefined" ? `${window.location.origin}${path}` : path;
}

function volumeFrom(study: StudyDetail, series: SeriesInfo): VolumeSource | null {
  const instances = series.instances
    .filter((i) => i.sop_class_uid !== SEGMENTATION_SOP_CLASS)
    .sort(byInstanceNumber);
  if (instances.length === 0) return null;
  const multi = instances.find((i) => (i.number_of_frames ?? 1) > 1);
  if (multi) {
    const frames = multi.number_of_frames ?? 1;
    return {
      seriesUid: series.series_instance_uid,
      urls: [absoluteWadoUrl(multi)],
      imageIds: Array.from({ length: frames }, (_, k) => wadoImageId(multi, k + 1)),
      sopInstanceUids: [multi.sop_instance_uid],
      seriesUrl: null,
    };
  }
  if (instances.length < 2) return null;
  return {
    seriesUid: series.series_instance_uid,
    urls: instances.map(absoluteWadoUrl),
    imageIds: instances.map((i) => wadoImageId(i)),
    sopInstanceUids: instances.map((i) => i.sop_instance_uid),
    seriesUrl: seriesUrl(study, series),
  };
}

function largest(series: SeriesInfo[]): SeriesInfo | undefined {
  return [...series].sort((a, b) => slices(b) - slices(a))[0];
}

function slices(series: SeriesInfo): number {
  const multi = series.instances.find((i) => (i.number_of_frames ?? 1) > 1);
  return multi ? (multi.number_of_frames ?? 1) : series.instances.length;
}

/**
 * The CT and the SPECT of a SPECT/CT study: the CT series with the most
 * slices, and the NM series that is a volume (a multi-frame RECON TOMO
 * object, or several slices). A planar NM in the same study is not a volume
 * and is skipped.
 */
export function spectCtSources(study: StudyDetail): SpectCtSources {
  const ct = largest(study.series.filter((s) => s.modality.toUpperCase() === "CT"));
  const nm = largest(
    study.series.filter((s) => s.modality.toUpperCase() === "NM" && slices(s) > 2),
  );
  return {
    ct: ct ? volumeFrom(study, ct) : null,
    spect: nm ? volumeFrom(study, nm) : null,
  };
}
