import { apiRequest, type QueryValue } from "./client";

export type StudyKind = "planar" | "spectct" | "other";
export type ReportStatus = "draft" | "signed";
export type AiStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export interface PatientSummary {
  id: string;
  patient_id: string;
  name: string;
  sex: string;
  birth_date: string | null;
}

export interface StudySummary {
  id: string;
  study_instance_uid: string;
  patient: PatientSummary;
  study_date: string | null;
  study_time: string | null;
  accession_number: string;
  description: string;
  modalities: string[];
  kind: StudyKind;
  number_of_series: number;
  number_of_instances: number;
  report_status: ReportStatus | null;
  ai_status: AiStatus | null;
}

export interface InstanceInfo {
  id: string;
  sop_instance_uid: string;
  sop_class_uid: string;
  instance_number: number | null;
  number_of_frames: number | null;
  rows: number | null;
  columns: number | null;
  wado_uri: string;
  /** "anterior" / "posterior" when the instance holds one planar view. */
  view?: string | null;
  /**
   * Planar NM: the view of each frame, in frame order, as the archive read it from
   * the detector view codes (ViewCodeSequence / DetectorVector); [] when unknown.
   */
  frame_views?: string[];
}

export interface SeriesInfo {
  id: string;
  series_instance_uid: string;
  modality: string;
  description: string;
  series_number: number | null;
  number_of_instances: number;
  instances: InstanceInfo[];
}

export interface StudyDetail extends StudySummary {
  series: SeriesInfo[];
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface StudyQuery {
  search?: string;
  modality?: string;
  date_from?: string;
  date_to?: string;
  report_status?: string;
  ai_status?: string;
  ordering?: string;
  page?: number;
  page_size?: number;
}

export function listStudies(
  query: StudyQuery,
  signal?: AbortSignal,
): Promise<Page<StudySummary>> {
  const q: Record<string, QueryValue> = { ...query };
  return apiRequest<Page<StudySummary>>(
    "/api/studies/",
    signal ? { query: q, signal } : { query: q },
  );
}

export function getStudy(id: string, signal?: AbortSignal): Promise<StudyDetail> {
  const path = `/api/studies/${encodeURIComponent(id)}/`;
  return apiRequest<StudyDetail>(path, signal ? { signal } : {});
}
