import { useCallback, useEffect, useRef, useState } from "react";
import {
  getJobResult,
  getStudyAi,
  isJobActive,
  runInference,
  type AiResult,
  type StudyAi,
} from "../../api/inference";

const POLL_MS = 2000;

export interface StudyAiState {
  /** The study's AI summary, with `result` the result being shown (see `choose`). */
  ai: StudyAi | null;
  error: unknown;
  running: boolean;
  run: (rerun: boolean) => void;
  /** The newest result when it is not the one shown (announced, never swapped in silently). */
  newerResult: AiResult | null;
  /** Whether the newest result arrived while this case was open (rather than chosen away). */
  newerArrived: boolean;
  /** Show the result of this job (the picker; "show new result"). */
  choose: (jobId: string) => void;
}

/**
 * The study's AI state: loads it, polls while a job is queued or running,
 * and starts (re-)runs. The overlay itself comes from the result's DICOM SEG
 * (useStudySegmentation): the job's own label map is not fetched here, so the
 * case opens with one label-map download, not two.
 */
export function useStudyAi(studyId: string, refreshKey = ""): StudyAiState {
  const [ai, setAi] = useState<StudyAi | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [starting, setStarting] = useState(false);
  const [tick, setTick] = useState(0);
  // The result on screen stays until the user picks another: a re-run after signing must not
  // swap the overlay under the reader's eyes.
  const [shownJob, setShownJob] = useState<string | null>(null);
  // Set when the user starts a run: the next result (not the one already there) is shown.
  const [follow, setFollow] = useState<{ except: string | null } | null>({
    except: null,
  });
  const [results, setResults] = useState<Record<string, AiResult>>({});
  const [seenNewest, setSeenNewest] = useState<Set<string>>(() => new Set());

  useEffect(() => {
    setAi(null);
    setShownJob(null);
    setFollow({ except: null });
    setResults({});
    setSeenNewest(new Set());
  }, [studyId]);

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
  }, [studyId, tick, refreshKey]);

  const newest = ai?.result ?? null;
  const newestId = useRef<string | null>(null);
  newestId.current = newest?.job_id ?? null;
  useEffect(() => {
    if (newest === null) return;
    setResults((known) =>
      known[newest.job_id] ? known : { ...known, [newest.job_id]: newest },
    );
    if (shownJob === null || (follow !== null && follow.except !== newest.job_id)) {
      setShownJob(newest.job_id);
      setFollow(null);
      setSeenNewest((seen) => new Set(seen).add(newest.job_id));
    }
  }, [newest, follow, shownJob]);

  // A chosen result that is not at hand yet (an older one from the picker) is fetched once.
  useEffect(() => {
    if (shownJob === null || results[shownJob]) return;
    const controller = new AbortController();
    getJobResult(shownJob, controller.signal)
      .then((r) => setResults((known) => ({ ...known, [r.job_id]: r })))
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(e);
      });
    return () => controller.abort();
  }, [shownJob, results]);

  const active = isJobActive(ai?.latest_job ?? null);
  useEffect(() => {
    if (!active) return;
    const timer = setTimeout(() => setTick((n) => n + 1), POLL_MS);
    return () => clearTimeout(timer);
  }, [active, ai]);

  const result = shownJob !== null ? (results[shownJob] ?? null) : null;

  const run = useCallback(
    (rerun: boolean) => {
      setStarting(true);
      // The user asked for this result: show it when it comes.
      setFollow({ except: newestId.current });
      runInference(studyId, rerun)
        .then(() => setTick((n) => n + 1))
        .catch((e: unknown) => setError(e))
        .finally(() => setStarting(false));
    },
    [studyId],
  );

  const choose = useCallback((jobId: string) => {
    setShownJob(jobId);
    setSeenNewest((seen) => new Set(seen).add(jobId));
  }, []);

  const newerResult = newest !== null && newest.job_id !== shownJob ? newest : null;
  return {
    ai: ai ? { ...ai, result } : null,
    error,
    running: starting || active,
    run,
    newerResult,
    newerArrived: newerResult !== null && !seenNewest.has(newerResult.job_id),
    choose,
  };
}
