import type { StudyQuery } from "../api/studies";

export const DEFAULT_ORDERING = "-study_date";
export const DEFAULT_PAGE_SIZE = 25;

/** The worklist's state lives in the URL (/worklist?search=..&page=2) so back and reload keep it. */
export interface WorklistQuery {
  search: string;
  modality: string;
  date_from: string;
  date_to: string;
  report_status: string;
  ai_status: string;
  ordering: string;
  page: number;
  page_size: number;
}

export const EMPTY_QUERY: WorklistQuery = {
  search: "",
  modality: "",
  date_from: "",
  date_to: "",
  report_status: "",
  ai_status: "",
  ordering: DEFAULT_ORDERING,
  page: 1,
  page_size: DEFAULT_PAGE_SIZE,
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function positiveInt(value: string | null, fallback: number, max: number): number {
  const n = value === null ? NaN : Number.parseInt(value, 10);
  return Number.isFinite(n) && n >= 1 ? Math.min(n, max) : fallback;
}

export function parseWorklistSearch(search: string): WorklistQuery {
  const p = new URLSearchParams(search);
  const date = (key: string) => {
    const v = p.get(key) ?? "";
    return DATE.test(v) ? v : "";
  };
  return {
    search: p.get("search") ?? "",
    modality: p.get("modality") ?? "",
    date_from: date("date_from"),
    date_to: date("date_to"),
    report_status: p.get("report_status") ?? "",
    ai_status: p.get("ai_status") ?? "",
    ordering: p.get("ordering") || DEFAULT_ORDERING,
    page: positiveInt(p.get("page"), 1, 100_000),
    page_size: positiveInt(p.get("page_size"), DEFAULT_PAGE_SIZE, 200),
  };
}

/** `?a=b` with only the values that differ from the defaults ("" when none). */
export function worklistSearchString(query: WorklistQuery): string {
  const p = new URLSearchParams();
  const keys = Object.keys(EMPTY_QUERY) as (keyof WorklistQuery)[];
  for (const key of keys) {
    const value = query[key];
    if (value === EMPTY_QUERY[key] || value === "") continue;
    p.set(key, String(value));
  }
  const s = p.toString();
  return s === "" ? "" : `?${s}`;
}

/** The API query: empty filters left out. */
export function toStudyQuery(query: WorklistQuery): StudyQuery {
  const out: StudyQuery = {
    ordering: query.ordering,
    page: query.page,
    page_size: query.page_size,
  };
  if (query.search.trim() !== "") out.search = query.search.trim();
  if (query.modality !== "") out.modality = query.modality;
  if (query.date_from !== "") out.date_from = query.date_from;
  if (query.date_to !== "") out.date_to = query.date_to;
  if (query.report_status !== "") out.report_status = query.report_status;
  if (query.ai_status !== "") out.ai_status = query.ai_status;
  return out;
}

/** Clicking a column header: first ascending, then descending, on the same field. */
export function toggleOrdering(current: string, field: string): string {
  if (current === field) return `-${field}`;
  return field;
}

export function pageCount(count: number, pageSize: number): number {
  return Math.max(1, Math.ceil(count / Math.max(1, pageSize)));
}
