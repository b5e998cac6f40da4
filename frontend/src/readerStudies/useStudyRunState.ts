import { useEffect, useState } from "react";
import { getReading, type ReaderStudyRunState } from "../api/readerStudies";

/** How often an open reading asks whether the study admin paused or closed the study. */
export const STUDY_STATE_POLL_MS = 10_000;

/**
 * The reader study's state (open / paused / closed) while a reading is on screen: the study
 * admin can pause or close it at any moment, and the reader must see that before typing on
 * into answers that would be refused. Polled while the page is visible; a refusal with
 * `study_paused` sets it at once (the caller passes it to `set`).
 */
export function useStudyRunState(
  readingId: string,
  initial: ReaderStudyRunState,
): [ReaderStudyRunState, (state: ReaderStudyRunState) => void] {
  const [state, setState] = useState<ReaderStudyRunState>(initial);
  useEffect(() => {
    const controller = new AbortController();
    const poll = () => {
      if (document.visibilityState !== "visible") return;
      getReading(readingId, controller.signal)
        .then((reading) => {
          if (reading.reader_study_state) setState(reading.reader_study_state);
        })
        .catch(() => {
          // A failed poll (network, a lapsed login) changes nothing: the next one asks again.
        });
    };
    const timer = window.setInterval(poll, STUDY_STATE_POLL_MS);
    return () => {
      window.clearInterval(timer);
      controller.abort();
    };
  }, [readingId]);
  return [state, setState];
}
