import { useEffect } from "react";
import { Outbox } from "./outbox";
import { ReadingTimer } from "./ReadingTimer";
import { sendReadingEvents } from "./sendReadingEvents";

function localStore(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

let sharedOutbox: Outbox | null = null;

/** One outbox per page, so that two case views never flush the same queue twice at once. */
export function getOutbox(): Outbox {
  sharedOutbox ??= new Outbox(localStore(), sendReadingEvents);
  return sharedOutbox;
}

/** Times the case view while the component is mounted. */
export function useReadingTimer(studyId: string, sessionId: string | null = null): void {
  useEffect(() => {
    const timer = new ReadingTimer({ studyId, sessionId, outbox: getOutbox() });
    timer.start();
    return () => timer.stop();
  }, [studyId, sessionId]);
}
