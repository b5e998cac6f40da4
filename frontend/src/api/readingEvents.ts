import { ApiError } from "./ApiError";
import { apiRequest } from "./client";

/**
 * Reading-timer events (backend app `readerstudies`):
 * POST /api/reading-events/ {events: ReadingEventPayload[], sent_at, rtt_ms?}
 * -> 200 {accepted: [id], duplicates: [id], rejected?: [{id, reason}],
 *         flagged?: [{id, reason}], server_time?, case_views: [...]}.
 * Event ids are made by the client so that a replayed event is recognised and
 * never counted twice; the server times each event: client time shifted by the
 * clock offset it measures from sent_at, less half the round trip (rtt_ms) so
 * that the request's own latency is not counted as clock offset.
 */
export type ReadingEventType =
  | "opened"
  | "first_image"
  | "visible"
  | "hidden"
  | "idle"
  | "active"
  | "heartbeat"
  | "submitted"
  | "closed";

export type ReadingArm = "unaided" | "aided";

export interface ReadingEventPayload {
  id: string;
  /** One id per opening of a case in the viewer (a "case view"). */
  view_id: string;
  study_id: string;
  type: ReadingEventType;
  /**
   * Client clock, ISO 8601; the server corrects it by the batch's clock offset.
   * For "idle" this is the time of the last input (idle time is cut back to it).
   */
  client_time: string;
  /** Order within the case view, from 0. */
  sequence: number;
  /** The reader's last input (keyboard, pointer, wheel), on heartbeat and idle events. */
  last_input_at?: string;
  /** Reader-study reading session when the case is opened from "My reading". */
  session_id?: string | null;
  /** The reader-study arm of this reading. */
  arm?: ReadingArm;
  /** Whether AI output was on screen in this case view (false in the unaided arm). */
  ai_shown?: boolean;
}

export interface EventProblem {
  id: string;
  reason: string;
}

export interface ReadingEventsResponse {
  accepted?: string[];
  duplicates?: string[];
  /** Events refused for good (unknown case view, study not allowed, implausible time). */
  rejected?: EventProblem[];
  /** Events stored but flagged (excluded from the analysis by default). */
  flagged?: EventProblem[];
  /** The server's clock when the batch arrived. */
  server_time?: string;
}

export interface ReadingEventsBatch {
  events: ReadingEventPayload[];
  /** Client clock when the request left. */
  sent_at: string;
  /** The last measured round trip of this endpoint, for the offset's half-RTT correction. */
  rtt_ms?: number;
}

export function postReadingEvents(
  batch: ReadingEventsBatch,
  options: { keepalive?: boolean } = {},
): Promise<ReadingEventsResponse | null> {
  return apiRequest<ReadingEventsResponse | null>("/api/reading-events/", {
    method: "POST",
    body: batch,
    keepalive: options.keepalive ?? false,
  });
}

/**
 * Whether a failed send is worth retrying later: offline, server errors and an
 * expired session or CSRF failure (401, and 403 for those: the user logs in
 * again) are; every other 4xx (400, 403 for the case, 404 for an unknown case
 * view, 409, 413, 422) is final for these events and must not block the queue.
 */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true;
  if (error.status === 0 || error.status >= 500) return true;
  if (error.status === 401 || error.status === 408 || error.status === 429) return true;
  // A 403 for a lapsed login or CSRF cookie passes once the user logs in again;
  // a 403 for these events (a case outside the reader's session) never does.
  if (error.status === 403)
    return /csrf|credentials|authenticat|log ?in/i.test(error.message);
  return false;
}
