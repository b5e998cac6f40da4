import { useCallback, useEffect, useState } from "react";
import {
  fetchLabelmap,
  getStudyAi,
  isJobActive,
  runInference,
  type Labelmap,
  type StudyAi,
} from "../../api/inference";

const POLL_MS = 2000;

export interface StudyAiState {
  ai: StudyAi | null;
  labelmap: Labelmap | null;
  error: unknown;
  running: boolean;
  run: (rerun: boolean) => void;
}

/**
 * The study's AI state: loads it, polls while a job is queued or running,
 * fetches the label map of the newest result once, and starts (re-)runs.
 */
export function useStudyAi(studyId: string): StudyAiState {
  const [ai, setAi] = useState<StudyAi | null>(null);
  const [labelmap, setLabelmap] = useState<Labelmap | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [starting, setStarting] = useState(false);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    getStudyAi(studyId, controller.signal)
      .then((next) => {
        setAi(next);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(e);
      });
    return () => controller.abort();
  }, [studyId, tick]);

  const active = isJobActive(ai?.latest_job ?? null);
  useEffect(() => {
    if (!active) return;
    const timer = setTimeout(() => setTick((n) => n + 1), POLL_MS);
    return () => clearTimeout(timer);
  }, [active, ai]);

  const result = ai?.result ?? null;
  const resultJob = result?.job_id ?? null;
  const labelUrl = result?.labelmap.url ?? null;
  const shapeKey = result?.labelmap.shape.join(",") ?? "";
  useEffect(() => {
    if (resultJob === null || labelUrl === null) {
      setLabelmap(null);
      return;
    }
    const controller = new AbortController();
    const shape = shapeKey.split(",").map(Number);
    fetchLabelmap(labelUrl, shape, controller.signal)
      .then(setLabelmap)
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(e);
      });
    return () => controller.abort();
  }, [resultJob, labelUrl, shapeKey]);

  const run = useCallback(
    (rerun: boolean) => {
      setStarting(true);
      runInference(studyId, rerun)
        .then(() => setTick((n) => n + 1))
        .catch((e: unknown) => setError(e))
        .finally(() => setStarting(false));
    },
    [studyId],
  );

  return { ai, labelmap, error, running: starting || active, run };
}
