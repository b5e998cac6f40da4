import { ApiError } from "./ApiError";
import { apiRequest } from "./client";
import type { AiStatus } from "./studies";

/**
 * AI jobs and results (backend app `inference`):
 *   GET  /api/studies/<id>/ai                -> StudyAi (newest job, newest result)
 *   POST /api/studies/<id>/inference-jobs/   {rerun} -> InferenceJob (201 new, 200 existing)
 *   GET  /api/inference/jobs/<job_id>/       -> InferenceJob
 *   GET  result.labelmap.url                 -> raw uint8 label map, shape in X-Labelmap-Shape
 * In a reader study's unaided arm the server refuses AI results (403/404).
 */
export type LesionClass = "benign" | "metastatic";

export interface ModelVersionInfo {
  id: string;
  name: string;
  version?: string | null;
  task: string;
  [key: string]: unknown;
}

export interface InferenceJob {
  id: string;
  study_id: string;
  state: AiStatus;
  stage: string | null;
  progress: number;
  attempts: number;
  error: string | null;
  created: string;
  queued_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  model_version: ModelVersionInfo | null;
  report_version: number | null;
}

export interface PlanarLocation {
  frame: number;
  /** [row, col] in the stored frame's pixels. */
  centroid: number[];
  bbox: number[];
}

export interface Lesion {
  id: number;
  label: number;
  class_name: LesionClass | string;
  probability: number;
  area_px: number | null;
  area_mm2: number | null;
  volume_vox: number | null;
  volume_ml: number | null;
  max_counts: number | null;
  region: string | null;
  /** Language-neutral region ("rib:left:5"); the viewer translates it (see regionName). */
  region_code?: string | null;
  /**
   * Where the class came from: "report_site" (the report names this lesion's site for the
   * class), "image" (the network), null (not recorded).
   */
  class_source?: "report_site" | "image" | null;
  centroid: number[];
  bbox: number[];
  /** Planar: {anterior, posterior}; SPECT/CT: the CT slice of the centroid. */
  locations: Record<string, unknown> | null;
}

/** A finding not listed: below the lesion-probability floor, or outside the report's sites. */
export interface HeldBackLesion extends Lesion {
  held_back: "below_floor" | "outside_report";
}

export interface LabelmapFrame {
  sop_instance_uid: string;
  /** 1-based frame in that instance. */
  frame: number;
  view?: "anterior" | "posterior" | string;
  slice?: number;
}

export interface AiResult {
  job_id: string;
  model_version: ModelVersionInfo | null;
  report_version: number | null;
  finished_at: string | null;
  lesion_counts: Record<string, number>;
  /** Lesions the model's report-site gate removed; null/absent: the model has no gate. */
  suppressed_outside_report?: number | null;
  /** Lesions below the model's lesion-probability floor; null/absent: the model has no floor. */
  suppressed_below_floor?: number | null;
  lesions: Lesion[];
  /**
   * Findings the model's floor or report-site gate left out of the list, the
   * SEG and the label map (ids follow the listed lesions'); shown on request.
   * Absent from older servers, empty for jobs that ran before they were kept.
   */
  held_back?: HeldBackLesion[];
  seg: { instance_id: string; sop_instance_uid: string; wado_uri: string }[];
  labelmap: {
    url: string;
    shape: number[];
    dtype: "uint8";
    classes: Record<string, string>;
    frames: LabelmapFrame[];
  };
}

/** One entry of the result picker (every succeeded job of the study, newest first). */
export interface AiResultSummary {
  job_id: string;
  finished_at: string | null;
  report_version: number | null;
  model_version: { name: string; version: string | null };
  lesion_counts: Record<string, number>;
}

export interface StudyAi {
  study_id: string;
  latest_job: InferenceJob | null;
  result: AiResult | null;
  current_report_version: number | null;
  /** Every result of the study, newest first (older servers: absent). */
  results?: AiResultSummary[];
}

const studyBase = (studyId: string) => `/api/studies/${encodeURIComponent(studyId)}`;

export function getStudyAi(studyId: string, signal?: AbortSignal): Promise<StudyAi> {
  return apiRequest<StudyAi>(`${studyBase(studyId)}/ai`, signal ? { signal } : {});
}

export function runInference(studyId: string, rerun = false): Promise<InferenceJob> {
  return apiRequest<InferenceJob>(`${studyBase(studyId)}/inference-jobs/`, {
    method: "POST",
    body: { rerun },
  });
}

/** One succeeded job's result (GET /api/inference/jobs/<id>/result). */
export function getJobResult(jobId: string, signal?: AbortSignal): Promise<AiResult> {
  const path = `/api/inference/jobs/${encodeURIComponent(jobId)}/result`;
  return apiRequest<AiResult>(path, signal ? { signal } : {});
}

export function getInferenceJob(
  jobId: string,
  signal?: AbortSignal,
): Promise<InferenceJob> {
  const path = `/api/inference/jobs/${encodeURIComponent(jobId)}/`;
  return apiRequest<InferenceJob>(path, signal ? { signal } : {});
}

/** Whether a job may still change, so the viewer keeps polling it. */
export function isJobActive(job: Pick<InferenceJob, "state"> | null): boolean {
  return job !== null && (job.state === "queued" || job.state === "running");
}

export interface Labelmap {
  shape: number[];
  data: Uint8Array;
}

/** Parses "2,1024,256" into [2, 1024, 256]; null when malformed. */
export function parseShape(header: string | null): number[] | null {
  if (!header) return null;
  const parts = header.split(",").map((p) => Number.parseInt(p.trim(), 10));
  return parts.length > 0 && parts.every((n) => Number.isFinite(n) && n > 0)
    ? parts
    : null;
}

/** The label map's bytes (the browser undoes the gzip transfer encoding). */
export async function fetchLabelmap(
  url: string,
  fallbackShape: number[],
  signal?: AbortSignal,
): Promise<Labelmap> {
  const init: RequestInit = { credentials: "same-origin" };
  if (signal) init.signal = signal;
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network");
  }
  if (!response.ok) throw new ApiError(response.status, `HTTP ${response.status}`);
  const shape = parseShape(response.headers.get("X-Labelmap-Shape")) ?? fallbackShape;
  const data = new Uint8Array(await response.arrayBuffer());
  const expected = shape.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new ApiError(500, `Label map has ${data.length} bytes, expected ${expected}`);
  }
  return { shape, data };
}

/**
 * DICOM SEG series of a study (the AI results' and any other tool's):
 *   GET /api/studies/<id>/segmentations/                 -> {segmentations: [...]}
 *   GET /api/studies/<id>/segmentations/<uid>/labelmap   -> SegLabelmapBody
 * The viewer draws the AI result from its SEG, like any other SEG of the study.
 */
export interface StudySegmentation {
  series_instance_uid: string;
  description: string;
  source: "ai" | "archive";
  job_id: string | null;
  created: string;
  labelmap_url: string;
}

export interface SegLabelmap extends Labelmap {
  frames: LabelmapFrame[];
  seriesUid: string;
}

interface SegLabelmapBody {
  series_instance_uid: string;
  shape: number[];
  frames: LabelmapFrame[];
  /** base64 of the gzipped uint8 label map (C order). */
  data: string;
}

export function listSegmentations(
  studyId: string,
  signal?: AbortSignal,
): Promise<{ segmentations: StudySegmentation[] }> {
  return apiRequest(`${studyBase(studyId)}/segmentations/`, signal ? { signal } : {});
}

async function gunzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function fetchSegLabelmap(
  url: string,
  signal?: AbortSignal,
): Promise<SegLabelmap> {
  const body = await apiRequest<SegLabelmapBody>(url, signal ? { signal } : {});
  const packed = Uint8Array.from(atob(body.data), (c) => c.charCodeAt(0));
  const data = await gunzip(packed);
  const expected = body.shape.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new ApiError(500, `Label map has ${data.length} bytes, expected ${expected}`);
  }
  return {
    shape: body.shape,
    data,
    frames: body.frames,
    seriesUid: body.series_instance_uid,
  };
}
