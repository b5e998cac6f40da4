import { useCallback, useEffect, useState } from "react";
import { getStudyAi, isJobActive, runInference, type StudyAi } from "../../api/inference";

const POLL_MS = 2000;

export interface StudyAiState {
  ai: StudyAi | null;
  error: unknown;
  running: boolean;
  run: (rerun: boolean) => void;
}

/**
 * The study's AI state: loads it, polls while a job is queued or running,
 * and starts (re-)runs. The overlay comes from the result's DICOM SEG
 * (useStudySegmentation).
 */
export function useStudyAi(studyId: string): StudyAiState {
  const [ai, setAi] = useState<StudyAi | null>(null);
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

  return { ai, error, running: starting || active, run };
}
