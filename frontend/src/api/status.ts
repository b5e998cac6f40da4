import { ApiError } from "./ApiError";
import { parseErrorBody } from "./parseErrorBody";
import type { AiStatus, ReportStatus } from "./studies";

/**
 * Live status (backend: studies.live_status), polled by worklists and open viewers:
 *   GET /api/studies/status?ids=a,b,c   (If-None-Match: <etag>)
 *     -> 200 {studies: StudyStatus[]} with an ETag, or 304 when nothing changed.
 */
export interface StudyStatus {
  id: string;
  report_status: ReportStatus | null;
  report_version: number | null;
  ai_status: AiStatus | null;
  ai_job_id: string | null;
  ai_progress: number | null;
  /** The newest succeeded job: a change means a new AI result to announce. */
  ai_result_job_id: string | null;
}

export type StatusAnswer =
  { changed: false } | { changed: true; etag: string | null; studies: StudyStatus[] };

export async function getStudyStatuses(
  ids: readonly string[],
  etag: string | null,
  signal?: AbortSignal,
): Promise<StatusAnswer> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (etag) headers["If-None-Match"] = etag;
  const init: RequestInit = { headers, credentials: "same-origin", cache: "no-store" };
  if (signal) init.signal = signal;
  const url = `/api/studies/status?ids=${ids.map(encodeURIComponent).join(",")}`;
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network");
  }
  if (response.status === 304) return { changed: false };
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text === "" ? null : (JSON.parse(text) as unknown);
  } catch {
    body = text;
  }
  if (!response.ok) {
    const parsed = parseErrorBody(body, response.status);
    throw new ApiError(
      response.status,
      parsed.message,
      parsed.extra,
      parsed.code ?? null,
      parsed.params ?? {},
    );
  }
  const studies = (body as { studies?: StudyStatus[] } | null)?.studies ?? [];
  return { changed: true, etag: response.headers.get("ETag"), studies };
}
