import { useEffect, useState } from "react";
import { getStudyStatuses, type StudyStatus } from "../../api/status";
import { nextPollDelay, POLL_BASE_MS } from "./pollSchedule";

/** Tests and the benchmark may poll faster: `window.__BONEREAD_STATUS_POLL_MS`. */
function baseInterval(): number {
  const override = (window as { __BONEREAD_STATUS_POLL_MS?: unknown })
    .__BONEREAD_STATUS_POLL_MS;
  return typeof override === "number" && override >= 200 ? override : POLL_BASE_MS;
}

/**
 * Live report and AI status of the given studies, kept current without reloading: one small
 * request every few seconds with If-None-Match (an unchanged answer is an empty 304), doubling
 * the wait after failures, paused while the tab is hidden and refreshed as soon as it is shown.
 */
export function useLiveStatus(ids: readonly string[]): ReadonlyMap<string, StudyStatus> {
  const [statuses, setStatuses] = useState<ReadonlyMap<string, StudyStatus>>(new Map());
  const key = ids.join(",");

  useEffect(() => {
    const list = key === "" ? [] : key.split(",");
    setStatuses(new Map());
    if (list.length === 0) return;
    const controller = new AbortController();
    let etag: string | null = null;
    let failures = 0;
    let timer: number | undefined;
    let inFlight = false;

    const schedule = () => {
      window.clearTimeout(timer);
      if (document.visibilityState === "hidden") return; // resumed by visibilitychange
      timer = window.setTimeout(poll, nextPollDelay(failures, baseInterval()));
    };

    const poll = () => {
      if (inFlight || controller.signal.aborted) return;
      inFlight = true;
      getStudyStatuses(list, etag, controller.signal)
        .then((answer) => {
          failures = 0;
          if (!answer.changed) return;
          etag = answer.etag;
          setStatuses(new Map(answer.studies.map((s) => [s.id, s])));
        })
        .catch(() => {
          failures += 1;
        })
        .finally(() => {
          inFlight = false;
          if (!controller.signal.aborted) schedule();
        });
    };

    const onVisibility = () => {
      if (document.visibilityState === "visible") poll();
      else window.clearTimeout(timer);
    };
    document.addEventListener("visibilitychange", onVisibility);
    poll();
    return () => {
      controller.abort();
      window.clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [key]);

  return statuses;
}
