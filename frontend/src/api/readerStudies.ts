import { ApiError } from "./ApiError";
import { apiRequest } from "./client";
import { readCookie } from "./csrf";
import { parseErrorBody } from "./parseErrorBody";
import type { ReadingArm } from "./readingEvents";

/**
 * Reader studies (backend app `readerstudies`); the contract is
 * docs/reader-studies.md / the backend's API description. Study admins design,
 * start and watch a study; readers see only "my reading".
 */
export type StudyDesign = "crossover" | "parallel";
export type ReaderStudyState = "draft" | "open" | "paused" | "closed";
export type AiTextSource = "history" | "report";
export type { ReadingArm };

export interface UserRef {
  id: number;
  username: string;
  display_name: string;
}

export interface StudySummary {
  id: string;
  title: string;
  design: StudyDesign;
  state: ReaderStudyState;
  created: string;
  started_at: string | null;
  closed_at: string | null;
  case_count: number;
  reader_count: number;
}

export interface Problem {
  code: string;
  message: string;
  case_id?: string;
}

export interface StudyDetail extends StudySummary {
  description: string;
  washout_days: number;
  ai_text_source: AiTextSource;
  max_case_seconds: number;
  seed: number;
  admins: UserRef[];
  state_history: {
    from_state: string;
    to_state: string;
    by: UserRef | null;
    at: string;
    reason: string;
  }[];
  start_problems: Problem[];
}

export interface StudyInput {
  title?: string;
  description?: string;
  design?: StudyDesign;
  washout_days?: number;
  ai_text_source?: AiTextSource;
  max_case_seconds?: number;
  seed?: number;
}

/** Image coordinates (pixels/voxels of the named image), never screen coordinates. */
export type Location =
  | {
      kind: "planar";
      view: "anterior" | "posterior" | string;
      sop_instance_uid?: string;
      frame?: number;
      x: number;
      y: number;
      x2?: number;
      y2?: number;
    }
  | {
      kind: "spectct";
      sop_instance_uid?: string;
      x: number;
      y: number;
      z: number;
      x2?: number;
      y2?: number;
      z2?: number;
    };

export type LesionLabel = "benign" | "metastatic";

export interface TruthLesion {
  label: LesionLabel;
  location: Location;
}

export interface Truth {
  metastasis_present: boolean;
  source: "manual" | "csv" | "seg";
  lesions: TruthLesion[];
  entered_by: UserRef | null;
  entered_at: string;
}

export interface JobRef {
  id: string;
  state: string;
  progress: number;
  error: string | null;
}

export interface FrozenAi {
  job_id: string;
  model_version: {
    id: string;
    name: string;
    version: string;
    task: string;
    checksum: string;
  } | null;
  checksum: string;
  conditioning_text: string;
  text_source: AiTextSource;
  frozen_at?: string;
  lesion_count?: number;
}

export interface StudyCase {
  id: string;
  study_id: string;
  study_instance_uid: string;
  accession_number: string;
  kind: string;
  truth: Truth | null;
  ai: FrozenAi | null;
  ai_job: JobRef | null;
}

export interface ReaderEntry {
  user: UserRef;
  first_arm: ReadingArm | null;
  added_at: string;
}

export interface Schedule {
  frozen: boolean;
  seed: number;
  design: StudyDesign;
  sessions_per_reader: number;
  readers: {
    user: UserRef;
    sessions: {
      number: number;
      arm: ReadingArm;
      case_order: { case_id: string; study_id: string; position: number }[];
    }[];
  }[];
}

export interface AiProgress {
  total: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  frozen: number;
  none: number;
  cases: {
    case_id: string;
    study_id: string;
    job: JobRef | null;
    frozen: FrozenAi | null;
  }[];
}

export type SessionState = "waiting" | "washout" | "ready" | "active" | "completed";

export interface SessionProgress {
  id: string;
  number: number;
  arm: ReadingArm;
  state: SessionState;
  cases_total: number;
  cases_done: number;
  active_seconds: number;
  open_seconds: number;
  started_at: string | null;
  completed_at: string | null;
  washout_ends_at: string | null;
  washout_override: { by: UserRef; at: string; reason: string } | null;
}

export interface Progress {
  state: ReaderStudyState;
  readers: { user: UserRef; sessions: SessionProgress[] }[];
}

export interface AnswerLesion {
  label: LesionLabel;
  shape: "point" | "box";
  location: Location;
  ai_lesion_id: number | null;
}

export interface Answer {
  metastasis_present: boolean | null;
  confidence: number | null;
  comment: string;
  lesions: AnswerLesion[];
}

export interface Times {
  open_seconds: number | null;
  image_seconds: number | null;
  active_seconds: number | null;
  wall_seconds: number | null;
  views: number;
  flagged: boolean;
}

export interface AdminReading {
  id: string;
  session_id: string;
  session_number: number;
  reader: UserRef;
  case_id: string;
  study_id: string;
  position: number;
  arm: ReadingArm;
  state: "pending" | "open" | "submitted";
  answer: Answer | null;
  submitted_at: string | null;
  times: Times;
  /** Earlier answers, oldest first: kept when an admin reopened or changed the answer. */
  history: {
    kind: "reopen" | "admin_change";
    answer: Answer | null;
    state: string;
    submitted_at: string | null;
    changed_by: UserRef | null;
    changed_at: string;
    reason: string;
  }[];
}

export interface Flags {
  case_views: {
    view_id: string;
    reading_id: string | null;
    reader: UserRef;
    study_id: string;
    reasons: string[];
    total_seconds: number;
    active_seconds: number;
    opened_at: string | null;
  }[];
  rejected_events: {
    event_id: string;
    view_id: string;
    reader: UserRef;
    type: string;
    client_time: string;
    received_at: string;
    code: string;
    reason: string;
  }[];
}

export interface MyReadingEntry {
  reader_study: {
    id: string;
    title: string;
    state: ReaderStudyState;
    design: StudyDesign;
  };
  session: {
    id: string;
    number: number;
    arm: ReadingArm;
    state: SessionState;
    cases_total: number;
    cases_done: number;
    started_at: string | null;
    washout_ends_at: string | null;
  } | null;
  next_reading: {
    id: string;
    position: number;
    study_id: string;
    arm: ReadingArm;
    state: string;
  } | null;
  sessions_total: number;
}

/** The study's own state as a reader sees it (paused and closed studies take no answers). */
export type ReaderStudyRunState = "open" | "paused" | "closed";

export interface Reading {
  id: string;
  reader_study_id: string;
  session_id: string;
  session_number: number;
  position: number;
  cases_total: number;
  study_id: string;
  arm: ReadingArm;
  state: "pending" | "open" | "submitted";
  answer: Answer | null;
  submitted_at: string | null;
  /** The reader study's state when this was answered (detail and open). */
  reader_study_state?: ReaderStudyRunState;
  ai: {
    job_id: string;
    model_version: FrozenAi["model_version"];
    checksum: string;
    conditioning_text: string;
    text_source: AiTextSource;
  } | null;
}

export interface SubmitResult {
  reading: Reading;
  next_reading_id: string | null;
  session_completed: boolean;
}

const BASE = "/api/reader-studies/";
const s = (id: string) => `${BASE}${encodeURIComponent(id)}/`;

// --- Study admin -----------------------------------------------------------------------------

export const listStudies = (signal?: AbortSignal) =>
  apiRequest<StudySummary[]>(BASE, signal ? { signal } : {});
export const createStudy = (input: StudyInput & { title: string }) =>
  apiRequest<StudyDetail>(BASE, { method: "POST", body: input });
export const getStudyDetail = (id: string, signal?: AbortSignal) =>
  apiRequest<StudyDetail>(s(id), signal ? { signal } : {});
export const updateStudy = (id: string, input: StudyInput) =>
  apiRequest<StudyDetail>(s(id), { method: "PATCH", body: input });

export const listCases = (id: string, signal?: AbortSignal) =>
  apiRequest<StudyCase[]>(`${s(id)}cases/`, signal ? { signal } : {});
export const addCases = (id: string, studyIds: string[]) =>
  apiRequest<StudyCase[]>(`${s(id)}cases/`, {
    method: "POST",
    body: { study_ids: studyIds },
  });
export const removeCase = (id: string, caseId: string) =>
  apiRequest<null>(`${s(id)}cases/${caseId}/`, { method: "DELETE" });
export const setTruth = (
  id: string,
  caseId: string,
  truth: { metastasis_present: boolean; lesions?: TruthLesion[] },
) =>
  apiRequest<StudyCase>(`${s(id)}cases/${caseId}/truth/`, { method: "PUT", body: truth });
export const truthFromSeg = (id: string, caseId: string) =>
  apiRequest<StudyCase>(`${s(id)}cases/${caseId}/truth/from-seg/`, {
    method: "POST",
    body: {},
  });

/**
 * CSV ground truth, sent as a multipart file (all or nothing on the server).
 * The one non-JSON request of the app, hence its own fetch.
 */
export async function importTruthCsv(
  id: string,
  csv: string,
): Promise<{ cases_updated: number; lesions: number }> {
  // Multipart (field `file`): the browser sets the boundary in Content-Type.
  const headers: Record<string, string> = { Accept: "application/json" };
  const form = new FormData();
  form.append("file", new Blob([csv], { type: "text/csv" }), "truth.csv");
  const token = readCookie("csrftoken");
  if (token !== null) headers["X-CSRFToken"] = token;
  let response: Response;
  try {
    response = await fetch(`${s(id)}truth/import/`, {
      method: "POST",
      headers,
      body: form,
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, "network");
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? (JSON.parse(text) as unknown) : null;
  } catch {
    body = text;
  }
  if (!response.ok) {
    const parsed = parseErrorBody(body, response.status);
    throw new ApiError(response.status, parsed.message, parsed.extra);
  }
  return body as { cases_updated: number; lesions: number };
}

export const listReaders = (id: string, signal?: AbortSignal) =>
  apiRequest<ReaderEntry[]>(`${s(id)}readers/`, signal ? { signal } : {});
export const addReader = (id: string, username: string) =>
  apiRequest<ReaderEntry>(`${s(id)}readers/`, { method: "POST", body: { username } });
export const removeReader = (id: string, userId: number) =>
  apiRequest<null>(`${s(id)}readers/${userId}/`, { method: "DELETE" });
export const candidateReaders = (signal?: AbortSignal) =>
  apiRequest<UserRef[]>(`${BASE}candidate-readers/`, signal ? { signal } : {});

export interface CandidateStudy {
  id: string;
  study_instance_uid: string;
  accession_number: string;
  kind: string;
  study_date: string | null;
  description: string;
  has_report: boolean;
  has_seg: boolean;
}

/** The archive to pick cases from (no patient names), for study admins. */
export const candidateStudies = (
  query: { kind?: string; q?: string; limit?: number } = {},
  signal?: AbortSignal,
) =>
  apiRequest<CandidateStudy[]>(`${BASE}candidate-studies/`, {
    query,
    ...(signal ? { signal } : {}),
  });

export const getSchedule = (id: string, signal?: AbortSignal) =>
  apiRequest<Schedule>(`${s(id)}schedule/`, signal ? { signal } : {});

export const precomputeAi = (id: string) =>
  apiRequest<unknown>(`${s(id)}ai/precompute/`, { method: "POST", body: {} });
export const getAiProgress = (id: string, signal?: AbortSignal) =>
  apiRequest<AiProgress>(`${s(id)}ai/`, signal ? { signal } : {});
export const freezeAi = (id: string) =>
  apiRequest<AiProgress>(`${s(id)}ai/freeze/`, { method: "POST", body: {} });

export type StudyAction = "start" | "pause" | "resume" | "close";
export const studyAction = (id: string, action: StudyAction, reason?: string) =>
  apiRequest<StudyDetail>(`${s(id)}${action}/`, {
    method: "POST",
    body: reason ? { reason } : {},
  });

export const getProgress = (id: string, signal?: AbortSignal) =>
  apiRequest<Progress>(`${s(id)}progress/`, signal ? { signal } : {});
export const startSession = (id: string, sessionId: string, overrideReason?: string) =>
  apiRequest<unknown>(`${s(id)}sessions/${sessionId}/start/`, {
    method: "POST",
    body: overrideReason ? { override_reason: overrideReason } : {},
  });
export const listReadings = (
  id: string,
  query: { reader?: number; session?: number } = {},
  signal?: AbortSignal,
) =>
  apiRequest<AdminReading[]>(`${s(id)}readings/`, {
    query,
    ...(signal ? { signal } : {}),
  });
export const reopenReading = (id: string, readingId: string, reason: string) =>
  apiRequest<AdminReading>(`${s(id)}readings/${readingId}/reopen/`, {
    method: "POST",
    body: { reason },
  });
/** Study admin: change a submitted answer; the server keeps the previous one with the reason. */
export const correctAnswer = (
  id: string,
  readingId: string,
  answer: Partial<Answer>,
  reason: string,
) =>
  apiRequest<AdminReading>(`${s(id)}readings/${readingId}/answer/`, {
    method: "PUT",
    body: { answer, reason },
  });
export const getFlags = (id: string, signal?: AbortSignal) =>
  apiRequest<Flags>(`${s(id)}flags/`, signal ? { signal } : {});

// --- Reader ----------------------------------------------------------------------------------

const MY = `${BASE}my-reading/`;

export const getMyReading = (signal?: AbortSignal) =>
  apiRequest<{ studies: MyReadingEntry[] }>(MY, signal ? { signal } : {});
export const openReading = (readingId: string) =>
  apiRequest<Reading>(`${MY}readings/${readingId}/open/`, { method: "POST", body: {} });
export const getReading = (readingId: string, signal?: AbortSignal) =>
  apiRequest<Reading>(`${MY}readings/${readingId}/`, signal ? { signal } : {});
export const saveAnswer = (readingId: string, answer: Partial<Answer>) =>
  apiRequest<Reading>(`${MY}readings/${readingId}/answer/`, {
    method: "PUT",
    body: answer,
  });
export const submitReading = (readingId: string, answer: Partial<Answer>) =>
  apiRequest<SubmitResult>(`${MY}readings/${readingId}/submit/`, {
    method: "POST",
    body: answer,
  });
