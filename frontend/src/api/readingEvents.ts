import { ApiError } from "./ApiError";
import { apiRequest } from "./client";

/**
 * Reading-timer events (backend app `readerstudies`):
 * POST /api/reading-events/ {events: ReadingEventPayload[], sent_at}
 * -> 200 {accepted: [id], duplicates: [id], case_views: [...]}. Event ids are
 * made by the client so that a replayed event is recognised and never counted
 * twice; the server times each event (client time shifted by the clock offset
 * it measures from sent_at, never later than its arrival).
 */
export type ReadingEventType =
  "opened" | "visible" | "hidden" | "idle" | "active" | "submitted" | "closed";

export interface ReadingEventPayload {
  id: string;
  /** One id per opening of a case in the viewer (a "case view"). */
  view_id: string;
  study_id: string;
  type: ReadingEventType;
  /** Client clock, ISO 8601; the server corrects it by the batch's clock offset. */
  client_time: string;
  /** Order within the case view, from 0. */
  sequence: number;
  /** Reader-study context when the case is opened from a reader session. */
  session_id?: string | null;
}

export interface ReadingEventsResponse {
  accepted?: string[];
  duplicates?: string[];
}

export function postReadingEvents(
  events: ReadingEventPayload[],
  options: { keepalive?: boolean } = {},
): Promise<ReadingEventsResponse | null> {
  return apiRequest<ReadingEventsResponse | null>("/api/reading-events/", {
    method: "POST",
    // sent_at lets the server measure this browser's clock offset, so replayed
    // offline events are placed when they happened, not when they arrived.
    body: { events, sent_at: new Date().toISOString() },
    keepalive: options.keepalive ?? false,
  });
}

/**
 * Whether a failed send is worth retrying later. Only a rejection of the
 * batch itself (400, 413, 422) is final; offline, server errors, a missing
 * endpoint and an expired session (401/403, the user logs in again) are not.
 */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true;
  return !(error.status === 400 || error.status === 413 || error.status === 422);
}
