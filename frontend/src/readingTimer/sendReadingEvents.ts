import { ApiError } from "../api/ApiError";
import {
  isRetryable,
  postReadingEvents,
  type ReadingEventPayload,
} from "../api/readingEvents";
import type { SendResult } from "./outbox";
import { RoundTrip } from "./roundTrip";

export const roundTrip = new RoundTrip();

/**
 * The outbox's sender for the real API: keepalive so a closing tab still
 * delivers (a beacon cannot carry the CSRF header that session auth needs).
 * Each batch carries the last measured round trip for the half-RTT clock
 * correction; this request's own round trip is measured for the next one.
 */
export async function sendReadingEvents(
  events: ReadingEventPayload[],
): Promise<SendResult> {
  roundTrip.seedFromResourceTiming();
  const rtt = roundTrip.ms;
  const started = performance.now();
  try {
    const response = await postReadingEvents(
      {
        events,
        sent_at: new Date().toISOString(),
        ...(rtt !== null ? { rtt_ms: rtt } : {}),
      },
      { keepalive: true },
    );
    roundTrip.record(performance.now() - started);
    return { kind: "sent", rejected: response?.rejected ?? [] };
  } catch (error) {
    if (isRetryable(error)) return { kind: "retry" };
    const reason =
      error instanceof ApiError
        ? `HTTP ${error.status}: ${error.message}`
        : String(error);
    return { kind: "refused", reason };
  }
}
