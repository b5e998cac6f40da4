import { useEffect, useRef } from "react";
import { Outbox } from "./outbox";
import { DEFAULT_HEARTBEAT_MS, DEFAULT_IDLE_MS, ReadingTimer } from "./ReadingTimer";
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

export const IDLE_MS_KEY = "boneread.readingTimer.idleMs";
export const HEARTBEAT_MS_KEY = "boneread.readingTimer.heartbeatMs";

/**
 * A shorter threshold or interval stored in this browser (tests use it); it can
 * only make the timer stricter, never longer than the defaults.
 */
export function storedMs(key: string, fallback: number): number {
  const raw = localStore()?.getItem(key);
  const value = raw ? Number(raw) : NaN;
  if (!Number.isFinite(value)) return fallback;
  return Math.min(fallback, Math.max(1000, value));
}

export interface ReadingContext {
  readingId?: string | null;
  aiShown?: boolean | null;
  idleMs?: number | null;
}

/**
 * Times the case view while the component is mounted; returns a ref to the
 * running timer (to submit, or to mark the first image explicitly).
 */
export function useReadingTimer(
  studyId: string,
  context: ReadingContext = {},
): { current: ReadingTimer | null } {
  const ref = useRef<ReadingTimer | null>(null);
  const { readingId = null, aiShown = null, idleMs = null } = context;
  useEffect(() => {
    const timer = new ReadingTimer({
      studyId,
      readingId,
      aiShown,
      outbox: getOutbox(),
      idleMs: storedMs(IDLE_MS_KEY, idleMs ?? DEFAULT_IDLE_MS),
      heartbeatMs: storedMs(HEARTBEAT_MS_KEY, DEFAULT_HEARTBEAT_MS),
      watchFirstImage: true,
    });
    ref.current = timer;
    timer.start();
    return () => {
      timer.stop();
      if (ref.current === timer) ref.current = null;
    };
  }, [studyId, readingId, aiShown, idleMs]);
  return ref;
}

/** Sends what an earlier page left in the outbox (a tab closed while offline). */
export function flushLeftoverReadingEvents(): void {
  const outbox = getOutbox();
  if (outbox.pending().length > 0) void outbox.flush();
}
