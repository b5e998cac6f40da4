import { apiRequest, buildUrl } from "./client";

/**
 * Reader-study analysis (backend app `analysis`; contract in docs/reader-study-results.md):
 *   GET /api/reader-studies/<id>/results/                      -> Results
 *   GET /api/reader-studies/<id>/results/plots/<name>.png      -> PNG (server-side matplotlib)
 *   GET /api/reader-studies/<id>/results/report.pdf            -> printable report
 *   GET /api/reader-studies/<id>/exports/<kind>.csv            -> de-identified CSV
 * Query: time=active|total, include_flagged=1, lang=zh-CN|en (plots, PDF).
 * Every number is computed by the statistics engine (boneread_ml.stats); the page only formats.
 */
export type Arm = "unaided" | "aided";
export type Interval = [number, number];
export type TimeMeasure = "active" | "total";

export interface ResultsDesign {
  design: string;
  n_readers: number;
  n_cases: number;
  n_positive: number;
  n_negative: number;
  arms: Arm[];
  n_sessions: number;
  washout_days: number | null;
  readings_done: number;
  readings_expected: number;
  complete: boolean;
  time_measure: TimeMeasure;
  flagged_excluded: number;
}

export interface ReaderTime {
  reader: string;
  unaided_minutes: number | null;
  aided_minutes: number | null;
  n_unaided: number;
  n_aided: number;
  t_p: number | null;
  wilcoxon_p: number | null;
  /** The reader's own time ratio with AI / without AI (geometric mean over paired cases). */
  ratio: number | null;
  ratio_ci: Interval | null;
}

export interface TimeResults {
  per_reader: ReaderTime[];
  mean_unaided_minutes: number | null;
  mean_aided_minutes: number | null;
  /** Mean aided minutes / mean unaided minutes (the table's mean row). */
  ratio_of_means: number | null;
  /** The mixed model's ratio of geometric means, with its CI (the headline). */
  ratio: number | null;
  ratio_ci: Interval | null;
  ratio_p: number | null;
  /** The arm x period term on the log scale (carry-over check). */
  carryover: { estimate: number | null; se: number | null; p: number | null } | null;
  per_case_seconds: Partial<Record<Arm, number[]>>;
}

export interface AccuracyRow {
  reader?: string;
  arm: Arm;
  sensitivity: number | null;
  sensitivity_ci: Interval | null;
  specificity: number | null;
  specificity_ci: Interval | null;
  auc: number | null;
  auc_ci: Interval | null;
}

export interface DelongRow {
  reader: string;
  auc_unaided: number | null;
  auc_aided: number | null;
  difference: number | null;
  ci: Interval | null;
  p: number | null;
}

export interface MrmcResult {
  auc: Partial<Record<Arm, number[]>>;
  auc_mean: Partial<Record<Arm, number>>;
  difference: number;
  F?: number;
  chi2?: number;
  df_numerator: number;
  df_denominator: number | null;
  p: number;
  ci: Interval;
  single_treatment?: Partial<Record<Arm, { ci: Interval; df: number }>>;
}

export interface LesionRow {
  reader?: string;
  arm: Arm;
  localisation_sensitivity: number | null;
  false_marks_per_case: number | null;
  classification_accuracy: number | null;
}

export interface FlaggedTime {
  reader: string;
  case: string;
  arm: Arm | "";
  session: number | null;
  seconds: number;
  reason: string;
}

export interface Results {
  study: { id: string; name: string; generated_at: string };
  design: ResultsDesign;
  time: TimeResults | null;
  accuracy: {
    per_reader: AccuracyRow[];
    pooled: AccuracyRow[];
    delong: DelongRow[];
  } | null;
  mrmc: MrmcResult | null;
  lesions: { per_reader: LesionRow[]; pooled: LesionRow[] } | null;
  flagged: FlaggedTime[];
  notes: string[];
}

export interface ResultsQuery {
  time?: TimeMeasure;
  includeFlagged?: boolean;
}

export const PLOT_NAMES = [
  "paired-times",
  "case-times",
  "roc",
  "roc-readers",
  "forest",
] as const;
export type PlotName = (typeof PLOT_NAMES)[number];

export const EXPORT_KINDS = [
  "events",
  "case-times",
  "answers",
  "lesions",
  "results",
] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

const base = (id: string) => `/api/reader-studies/${encodeURIComponent(id)}`;

function queryOf(query: ResultsQuery, lang?: string) {
  return {
    time: query.time,
    include_flagged: query.includeFlagged ? 1 : undefined,
    lang,
  };
}

export function getResults(
  readerStudyId: string,
  query: ResultsQuery = {},
  signal?: AbortSignal,
): Promise<Results> {
  return apiRequest<Results>(`${base(readerStudyId)}/results/`, {
    query: queryOf(query),
    ...(signal ? { signal } : {}),
  });
}

export function plotUrl(
  readerStudyId: string,
  name: PlotName,
  query: ResultsQuery,
  lang: string,
): string {
  return buildUrl(
    `${base(readerStudyId)}/results/plots/${name}.png`,
    queryOf(query, lang),
  );
}

export function reportUrl(
  readerStudyId: string,
  query: ResultsQuery,
  lang: string,
): string {
  return buildUrl(`${base(readerStudyId)}/results/report.pdf`, queryOf(query, lang));
}

export function exportUrl(
  readerStudyId: string,
  kind: ExportKind,
  query: ResultsQuery,
): string {
  return buildUrl(`${base(readerStudyId)}/exports/${kind}.csv`, queryOf(query));
}
