import { apiRequest } from "./client";

/**
 * Sample-size planning (backend app `analysis`; docs/reader-study-analysis.md):
 *   GET  /api/reader-studies/sample-size/ -> { pilots: Pilot[] }
 *   POST /api/reader-studies/sample-size/ -> Plan (computes only; stores nothing)
 * Every number comes from the statistics engine (boneread_ml.stats.samplesize).
 */
export interface Pilot {
  id: string;
  title: string;
  state: string;
  readings_done: number;
  readings_expected: number;
  finished: boolean;
}

export interface AucComponents {
  var_tr: number;
  var: number;
  cov1: number;
  cov2: number;
  cov3: number;
  n_cases: number;
}

export interface TimeComponents {
  reader_arm: number;
  residual: number;
  reader?: number;
  case?: number;
}

export interface PlanRequest {
  source: "pilot" | "values";
  pilot_study?: string;
  auc_difference: number | null;
  time_ratio: number | null;
  power: number;
  alpha: number;
  readers: number[];
  n_sim: number;
  auc_components?: AucComponents;
  time_components?: TimeComponents;
}

export interface AucRow {
  readers: number;
  cases: number | null;
  power: number | null;
}

export interface TimeRow {
  readers: number;
  cases: number | null;
  power: number | null;
  power_se: number | null;
  power_approx: number | null;
  n_sim: number;
}

export interface Plan {
  inputs: PlanRequest;
  pilot: {
    id: string;
    title: string;
    n_readers: number;
    n_cases: number;
    observed_auc_difference: number | null;
    observed_time_ratio: number | null;
  } | null;
  auc: { components: AucComponents; max_cases: number; rows: AucRow[] } | null;
  time: { components: TimeComponents; max_cases: number; rows: TimeRow[] } | null;
}

const URL = "/api/reader-studies/sample-size/";

export function listPilots(signal?: AbortSignal): Promise<{ pilots: Pilot[] }> {
  return apiRequest<{ pilots: Pilot[] }>(URL, signal ? { signal } : {});
}

export function planSampleSize(body: PlanRequest): Promise<Plan> {
  return apiRequest<Plan>(URL, { method: "POST", body });
}
