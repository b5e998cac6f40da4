import { useEffect, useState } from "react";
import {
  fetchLabelmap,
  getStudyAi,
  type AiResult,
  type Labelmap,
} from "../api/inference";

export interface FrozenAiState {
  result: AiResult | null;
  labelmap: Labelmap | null;
  error: unknown;
}

/**
 * The aided arm's frozen AI result, and nothing else: with a null job id (the
 * unaided arm) it makes no request at all. A result of any other job than the
 * frozen one is not shown.
 */
export function useFrozenAi(studyId: string, jobId: string | null): FrozenAiState {
  const [state, setState] = useState<FrozenAiState>({
    result: null,
    labelmap: null,
    error: null,
  });
  useEffect(() => {
    setState({ result: null, labelmap: null, error: null });
    if (jobId === null) return;
    const controller = new AbortController();
    const { signal } = controller;
    (async () => {
      const ai = await getStudyAi(studyId, signal);
      const result = ai.result;
      if (!result || result.job_id !== jobId) {
        throw new Error(
          `frozen result ${jobId} not served (got ${result?.job_id ?? "none"})`,
        );
      }
      setState({ result, labelmap: null, error: null });
      const labelmap = await fetchLabelmap(
        result.labelmap.url,
        result.labelmap.shape,
        signal,
      );
      if (!signal.aborted) setState({ result, labelmap, error: null });
    })().catch((error: unknown) => {
      if (!signal.aborted) setState({ result: null, labelmap: null, error });
    });
    return () => controller.abort();
  }, [studyId, jobId]);
  return state;
}
