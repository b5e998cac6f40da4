import { useEffect, useMemo, useRef, useState } from "react";
import { ApiError } from "../../api/ApiError";
import {
  fetchSegLabelmap,
  listSegmentations,
  type SegLabelmap,
  type StudySegmentation,
} from "../../api/inference";

export interface StudySegmentationState {
  /** The SEG series drawn: the shown AI result's, else the study's newest SEG. */
  segmentation: StudySegmentation | null;
  labelmap: SegLabelmap | null;
  error: unknown;
}

/** Which SEG series to draw: the AI result's own, else the newest of any tool. */
export function chooseSegmentation(
  segmentations: readonly StudySegmentation[],
  resultJobId: string | null,
): StudySegmentation | null {
  if (resultJobId !== null) {
    const own = segmentations.find((s) => s.job_id === resultJobId);
    if (own) return own;
  }
  return segmentations[0] ?? null;
}

/**
 * Whether the study's SEG series must be listed (again): a new study, or an AI
 * result whose SEG is not in the listing at hand. The case page learns the
 * result's job a moment after it listed the SEGs; re-listing then only cost a
 * request on the way to the overlay.
 */
export function needsListing(
  listed: { studyId: string; segmentations: readonly StudySegmentation[] } | null,
  studyId: string,
  resultJobId: string | null,
): boolean {
  if (listed === null || listed.studyId !== studyId) return true;
  if (resultJobId === null) return false;
  return !listed.segmentations.some((s) => s.job_id === resultJobId);
}

/**
 * The overlay the viewer draws comes from the DICOM SEG in the archive (one
 * result form for the AI's and any other tool's segmentation). Re-listed when
 * the AI result changes, since a new result brings its SEG series.
 */
export function useStudySegmentation(
  studyId: string,
  resultJobId: string | null,
): StudySegmentationState {
  const [segmentations, setSegmentations] = useState<StudySegmentation[]>([]);
  const [labelmap, setLabelmap] = useState<SegLabelmap | null>(null);
  const [error, setError] = useState<unknown>(null);
  const listed = useRef<{
    studyId: string;
    segmentations: StudySegmentation[];
  } | null>(null);
  // The listing on its way, if any: the AI result's job id usually arrives while the first
  // listing is still in flight; that listing already holds the result's SEG, so it is awaited,
  // not aborted and asked for again.
  const inflight = useRef<{
    studyId: string;
    done: Promise<void>;
    controller: AbortController;
  } | null>(null);

  useEffect(() => {
    let stale = false;
    const list = (): Promise<void> => {
      const controller = new AbortController();
      const done: Promise<void> = listSegmentations(studyId, controller.signal)
        .then((body) => {
          listed.current = { studyId, segmentations: body.segmentations };
          setSegmentations(body.segmentations);
        })
        .catch((e: unknown) => {
          if (controller.signal.aborted) return;
          // Blinded (reader study): no segmentation to draw, not an error to show.
          if (e instanceof ApiError && (e.status === 403 || e.status === 404)) {
            setSegmentations([]);
            return;
          }
          setError(e);
        })
        .finally(() => {
          if (inflight.current?.done === done) inflight.current = null;
        });
      inflight.current = { studyId, done, controller };
      return done;
    };
    const pending = inflight.current?.studyId === studyId ? inflight.current.done : null;
    void (pending ?? Promise.resolve()).then(() => {
      if (stale || !needsListing(listed.current, studyId, resultJobId)) return;
      return list();
    });
    return () => {
      stale = true;
    };
  }, [studyId, resultJobId]);

  // another study (or leaving the page) drops the listing on its way
  useEffect(
    () => () => {
      inflight.current?.controller.abort();
      inflight.current = null;
    },
    [studyId],
  );

  const segmentation = useMemo(
    () => chooseSegmentation(segmentations, resultJobId),
    [segmentations, resultJobId],
  );
  const url = segmentation?.labelmap_url ?? null;
  useEffect(() => {
    if (url === null) {
      setLabelmap(null);
      return;
    }
    const controller = new AbortController();
    fetchSegLabelmap(url, controller.signal)
      .then((next) => {
        setLabelmap(next);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(e);
      });
    return () => controller.abort();
  }, [url]);

  return { segmentation, labelmap, error };
}
