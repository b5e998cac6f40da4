import { ApiError } from "../api/ApiError";
import {
  getServerTime,
  isRetryable,
  postReadingEvents,
  type ReadingEventPayload,
} from "../api/readingEvents";
import { ClockSync } from "./clockSync";
import type { SendResult } from "./outbox";

export const clockSync = new ClockSync(getServerTime);
// The first batch waits for the clock (a few samples), so that all batches use one offset.
const FIRST_CLOCK_WAIT_MS = 5000;

/**
 * The outbox's sender for the real API: keepalive so a closing tab still
 * delivers (a beacon cannot carry the CSRF header that session auth needs).
 * Each batch carries the clock offset measured without the request's latency.
 */
export async function sendReadingEvents(
  events: ReadingEventPayload[],
): Promise<SendResult> {
  // Never wait on the clock when an offset is known: a closing page has no time for it.
  const refreshing = clockSync.refresh();
  if (clockSync.offsetMs === null) {
    await Promise.race([
      refreshing,
      new Promise((r) => setTimeout(r, FIRST_CLOCK_WAIT_MS)),
    ]);
  }
  const offset = clockSync.offsetMs;
  try {
    const response = await postReadingEvents(
      {
        events,
        sent_at: new Date().toISOString(),
        ...(offset !== null ? { clock_offset_ms: offset } : {}),
      },
      { keepalive: true },
    );
    const rejected = (response?.rejected ?? []).map((r) => ({
      id: r.id,
      reason: r.code ? `${r.code}: ${r.reason}` : r.reason,
    }));
    return { kind: "sent", rejected };
  } catch (error) {
    if (isRetryable(error)) return { kind: "retry" };
    const reason =
      error instanceof ApiError
        ? `HTTP ${error.status}: ${error.message}`
        : String(error);
    return { kind: "refused", reason };
  }
}
