import {
  isRetryable,
  postReadingEvents,
  type ReadingEventPayload,
} from "../api/readingEvents";
import type { SendResult } from "./outbox";

/** The outbox's sender for the real API: keepalive so a closing tab still delivers. */
export async function sendReadingEvents(
  events: ReadingEventPayload[],
): Promise<SendResult> {
  try {
    await postReadingEvents(events, { keepalive: true });
    return "sent";
  } catch (error) {
    if (isRetryable(error)) return "retry";
    // A 400 for a malformed batch would fail forever; drop it rather than block the queue.
    console.warn("Reading events rejected by the server", error);
    return "drop";
  }
}
