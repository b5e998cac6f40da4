import { useEffect, useState, type DependencyList } from "react";

export type AsyncState<T> =
  | { status: "loading"; data: T | null }
  | { status: "success"; data: T }
  | { status: "error"; error: unknown; data: T | null };

/**
 * Runs `load` whenever deps change, aborting the previous run; keeps the last
 * data while a new run loads so lists don't flash empty between pages.
 */
export function useAsync<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: DependencyList,
): [AsyncState<T>, () => void] {
  const [state, setState] = useState<AsyncState<T>>({ status: "loading", data: null });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setState((prev) => ({ status: "loading", data: prev.data }));
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ status: "success", data });
      },
      (error: unknown) => {
        if (!controller.signal.aborted)
          setState((prev) => ({ status: "error", error, data: prev.data }));
      },
    );
    return () => controller.abort();
    // The caller lists in `deps` what `load` reads.
  }, [...deps, attempt]);

  return [state, () => setAttempt((n) => n + 1)];
}
