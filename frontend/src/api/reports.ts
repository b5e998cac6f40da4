import { apiRequest } from "./client";

/**
 * Reports (backend app `reports`), one per study, versioned:
 *   GET  /api/studies/<id>/report            -> Report (404 when none yet)
 *   PUT  /api/studies/<id>/report            {history, findings, impression, base_version}
 *        -> Report; 409 {message, extra: {current: Report | null}} when base_version is stale
 *   POST /api/studies/<id>/report/sign       {version} -> Report
 *   GET  /api/studies/<id>/report/versions   -> ReportVersion[] (newest first)
 *   POST /api/studies/<id>/report/addenda    {text} -> Report
 */
export type ReportState = "draft" | "signed";

export interface Person {
  id: string | number;
  username: string;
  display_name: string;
}

export interface ReportContent {
  history: string;
  findings: string;
  impression: string;
}

export interface Addendum {
  number: number;
  text: string;
  author: Person | null;
  created: string;
}

export interface Report extends ReportContent {
  id: string;
  study_id: string;
  status: ReportState;
  version: number;
  author: Person | null;
  created: string;
  modified: string;
  signed_by: Person | null;
  signed_at: string | null;
  signed_version: number | null;
  addenda: Addendum[];
}

export interface ReportVersion extends ReportContent {
  version: number;
  author: Person | null;
  created: string;
  changed_fields: string[];
  source: string;
}

const base = (studyId: string) => `/api/studies/${encodeURIComponent(studyId)}/report`;

export function getReport(studyId: string, signal?: AbortSignal): Promise<Report> {
  return apiRequest<Report>(base(studyId), signal ? { signal } : {});
}

export function saveReport(
  studyId: string,
  content: ReportContent,
  baseVersion: number,
): Promise<Report> {
  return apiRequest<Report>(base(studyId), {
    method: "PUT",
    body: { ...content, base_version: baseVersion },
  });
}

export function signReport(studyId: string, version: number): Promise<Report> {
  return apiRequest<Report>(`${base(studyId)}/sign`, {
    method: "POST",
    body: { version },
  });
}

export function addAddendum(studyId: string, text: string): Promise<Report> {
  return apiRequest<Report>(`${base(studyId)}/addenda`, {
    method: "POST",
    body: { text },
  });
}

export function listReportVersions(
  studyId: string,
  signal?: AbortSignal,
): Promise<ReportVersion[]> {
  return apiRequest<ReportVersion[]>(
    `${base(studyId)}/versions`,
    signal ? { signal } : {},
  );
}

/** The report a 409 carries in extra.current, when it has one. */
export function conflictCurrent(extra: Record<string, unknown>): Report | null {
  const current = extra.current;
  if (typeof current !== "object" || current === null) return null;
  const r = current as Partial<Report>;
  return typeof r.version === "number" && typeof r.findings === "string"
    ? (current as Report)
    : null;
}
