import { apiRequest } from "./client";
import type { AiStatus } from "./studies";

/**
 * AI jobs and their results. Proposed contract until the backend defines it:
 *   GET  /api/studies/<id>/inference-jobs/        -> InferenceJob[] (newest first)
 *   POST /api/studies/<id>/inference-jobs/        -> InferenceJob (202; queued)
 *   GET  /api/inference-jobs/<job_id>/            -> InferenceJob
 * The result's SEG is a normal archive instance (seg_wado_uri), so the
 * viewer loads it like any image; blinding in reader studies is the
 * server's job (it answers 403/404 for an unaided arm).
 */
export type LesionClass = "benign" | "metastatic";

export interface Lesion {
  /** Segment number in the SEG (1 benign, 2 metastatic) and component label. */
  label: number;
  lesion_class: LesionClass;
  probability: number;
  /** mm² for planar, mm³ for SPECT/CT. */
  size: number;
  max_counts: number | null;
  region: string;
  /** Centre in image pixel coordinates (planar: view + column/row; volume: world mm). */
  view?: "anterior" | "posterior" | null;
  centroid: number[];
  bbox?: number[] | null;
}

export interface ModelVersionInfo {
  id: string;
  name: string;
  version?: string;
  task: "planar" | "spectct" | string;
}

export interface InferenceJob {
  id: string;
  study_id: string;
  state: AiStatus;
  progress?: number | null;
  created: string;
  started: string | null;
  finished: string | null;
  error: string | null;
  model_version: ModelVersionInfo | null;
  result: {
    seg_instance_id: string;
    seg_wado_uri: string;
    lesions: Lesion[];
  } | null;
}

export function listInferenceJobs(
  studyId: string,
  signal?: AbortSignal,
): Promise<InferenceJob[]> {
  const path = `/api/studies/${encodeURIComponent(studyId)}/inference-jobs/`;
  return apiRequest<InferenceJob[]>(path, signal ? { signal } : {});
}

export function runInference(studyId: string): Promise<InferenceJob> {
  const path = `/api/studies/${encodeURIComponent(studyId)}/inference-jobs/`;
  return apiRequest<InferenceJob>(path, { method: "POST", body: {} });
}

export function getInferenceJob(
  jobId: string,
  signal?: AbortSignal,
): Promise<InferenceJob> {
  const path = `/api/inference-jobs/${encodeURIComponent(jobId)}/`;
  return apiRequest<InferenceJob>(path, signal ? { signal } : {});
}

/** Whether a job may still change, so the viewer keeps polling it. */
export function isJobActive(job: Pick<InferenceJob, "state">): boolean {
  return job.state === "queued" || job.state === "running";
}
