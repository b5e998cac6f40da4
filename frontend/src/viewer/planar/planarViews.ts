import type { InstanceInfo, SeriesInfo, StudyDetail } from "../../api/studies";
import { wadoImageId } from "../imageIds";

export interface PlanarViews {
  anterior: string | null;
  posterior: string | null;
}

/** Modalities that carry a planar bone scan (secondary captures of it included). */
const IMAGE_MODALITIES = new Set(["NM", "OT"]);
const SEGMENTATION_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4";

type ViewGuess = "anterior" | "posterior" | null;

function guessView(text: string | null | undefined): ViewGuess {
  if (!text) return null;
  const t = text.toLowerCase();
  // Posterior first: "post" must not be read as containing "ant" by accident.
  if (/\b(post|posterior|pa)\b|后位|後位|后面/.test(t) || t.includes("posterior")) {
    return "posterior";
  }
  if (/\b(ant|anterior|ap)\b|前位|前面/.test(t) || t.includes("anterior"))
    return "anterior";
  return null;
}

/** An instance may say which view it is (optional `view` from the backend). */
function instanceView(instance: InstanceInfo): ViewGuess {
  return guessView(instance.view ?? null);
}

function byNumber<T>(key: (item: T) => number | null): (a: T, b: T) => number {
  return (a, b) =>
    (key(a) ?? Number.MAX_SAFE_INTEGER) - (key(b) ?? Number.MAX_SAFE_INTEGER);
}

function imageSeries(study: StudyDetail): SeriesInfo[] {
  return study.series
    .filter((s) => IMAGE_MODALITIES.has(s.modality.toUpperCase()))
    .map((s) => ({
      ...s,
      instances: s.instances.filter((i) => i.sop_class_uid !== SEGMENTATION_SOP_CLASS),
    }))
    .filter((s) => s.instances.length > 0)
    .sort(byNumber((s) => s.series_number));
}

/**
 * Finds the anterior and posterior images of a planar whole-body study. The
 * archive stores them either as one NM object with two frames (which frame
 * is which from the archive's `frame_views`, read from the detector view
 * codes; without them frame 1 anterior, frame 2 posterior) or
 * as two objects, one per view, named by an explicit `view`, by the series
 * description, or else by instance / series number.
 */
export function planarViews(study: StudyDetail): PlanarViews {
  const series = imageSeries(study);
  const all = series.flatMap((s) =>
    [...s.instances]
      .sort(byNumber((i) => i.instance_number))
      .map((instance) => ({ instance, series: s })),
  );
  if (all.length === 0) return { anterior: null, posterior: null };

  const multi = all.find(({ instance }) => (instance.number_of_frames ?? 1) >= 2);
  if (multi) {
    // The archive says which frame is which (detector view codes); a posterior-first
    // file is common. Without view codes: frame 1 anterior, frame 2 posterior.
    const views = (multi.instance.frame_views ?? []).map((v) => guessView(v));
    const ant = views.indexOf("anterior");
    const post = views.indexOf("posterior");
    const antFrame = ant >= 0 ? ant + 1 : post === 0 ? 2 : 1;
    const postFrame = post >= 0 ? post + 1 : antFrame === 1 ? 2 : 1;
    return {
      anterior: wadoImageId(multi.instance, antFrame),
      posterior: wadoImageId(multi.instance, postFrame),
    };
  }

  const named = all.map((entry) => ({
    ...entry,
    view: instanceView(entry.instance) ?? guessView(entry.series.description),
  }));
  const anterior = named.find((e) => e.view === "anterior");
  const posterior = named.find((e) => e.view === "posterior");
  const unnamed = named.filter((e) => e.view === null);
  const ant = anterior ?? unnamed.shift();
  const post = posterior ?? unnamed.find((e) => e !== ant);
  return {
    anterior: ant ? wadoImageId(ant.instance) : null,
    posterior: post ? wadoImageId(post.instance) : null,
  };
}
