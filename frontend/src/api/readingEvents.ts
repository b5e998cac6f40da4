import { ApiError } from "./ApiError";
import { apiRequest } from "./client";

/**
 * Reading-timer events (backend app `readerstudies`):
 * POST /api/reading-events/ {events: ReadingEventPayload[], sent_at, clock_offset_ms?}
 * -> 200 {accepted: [id], duplicates: [id], rejected: [{id, code, reason}], case_views}
 *    (200 even when single events are refused; 400 only for a bad envelope).
 * GET /api/reading-events/clock/ -> {server_time}: the client measures the clock
 * offset against it with half the round trip (see readingTimer/clockSync.ts).
 * Event ids are made by the client so that a replayed event is recognised and
 * never counted twice; the server times each event: client time shifted by the
 * clock offset.
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
  /** The reader-study reading this case view belongs to (from "My reading"). */
  reading_id?: string | null;
  /** Kept for old clients; the server takes session and arm from the reading. */
  session_id?: string | null;
  /** The reader-study arm of this reading (informational; the server knows it). */
  arm?: ReadingArm;
  /** Whether AI output was on screen in this case view (false in the unaided arm). */
  ai_shown?: boolean;
}

export interface EventProblem {
  id: string;
  code?: string;
  reason: string;
}

export interface ReadingEventsResponse {
  accepted?: string[];
  duplicates?: string[];
  /** Events refused for good (unknown case view, study not allowed, implausible time). */
  rejected?: EventProblem[];
}

export interface ReadingEventsBatch {
  events: ReadingEventPayload[];
  /** Client clock when the request left. */
  sent_at: string;
  /** Server minus client clock, measured with half the round trip taken out. */
  clock_offset_ms?: number;
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

/** The server's clock, for the client's offset measurement. */
export async function getServerTime(): Promise<string> {
  const body = await apiRequest<{ server_time: string }>("/api/reading-events/clock/");
  return body.server_time;
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
