import { apiRequest } from "./client";

/**
 * Reports. Proposed contract until the backend defines it:
 *   GET  /api/studies/<id>/report/            -> Report (404 when none yet)
 *   PUT  /api/studies/<id>/report/            {clinical_history, findings, impression,
 *                                              version} -> Report; 409 {message,
 *                                              extra: {current: Report}} when `version`
 *                                              is not the latest (optimistic locking)
 *   POST /api/studies/<id>/report/sign/       {version} -> Report (status signed)
 *   GET  /api/studies/<id>/report/versions/   -> ReportVersion[]
 */
export type ReportState = "draft" | "signed";

export interface ReportContent {
  clinical_history: string;
  findings: string;
  impression: string;
}

export interface Report extends ReportContent {
  id: string;
  study_id: string;
  status: ReportState;
  version: number;
  author: { id: string | number; display_name: string } | null;
  modified: string;
  signed_at: string | null;
  signed_by: { id: string | number; display_name: string } | null;
}

export interface ReportVersion extends ReportContent {
  version: number;
  status: ReportState;
  author: { id: string | number; display_name: string } | null;
  created: string;
}

const base = (studyId: string) => `/api/studies/${encodeURIComponent(studyId)}/report/`;

export function getReport(studyId: string, signal?: AbortSignal): Promise<Report> {
  return apiRequest<Report>(base(studyId), signal ? { signal } : {});
}

export function saveReport(
  studyId: string,
  content: ReportContent,
  version: number | null,
): Promise<Report> {
  return apiRequest<Report>(base(studyId), {
    method: "PUT",
    body: { ...content, version },
  });
}

export function signReport(studyId: string, version: number): Promise<Report> {
  return apiRequest<Report>(`${base(studyId)}sign/`, {
    method: "POST",
    body: { version },
  });
}

export function listReportVersions(
  studyId: string,
  signal?: AbortSignal,
): Promise<ReportVersion[]> {
  return apiRequest<ReportVersion[]>(
    `${base(studyId)}versions/`,
    signal ? { signal } : {},
  );
}
