import type { WorklistQuery } from "./worklistQuery";

/**
 * The worklist page the user last saw, kept in sessionStorage so that the
 * viewer can step to the next or previous case (across page boundaries)
 * without going back to the list.
 */
export interface CaseList {
  query: WorklistQuery;
  ids: string[];
  count: number;
}

export type Neighbour =
  | { kind: "case"; studyId: string }
  | { kind: "page"; page: number; pick: "first" | "last" }
  | null;

export const CASE_LIST_KEY = "boneread.caseList";

export function neighbour(list: CaseList, studyId: string, direction: 1 | -1): Neighbour {
  const index = list.ids.indexOf(studyId);
  if (index < 0) return null;
  const target = index + direction;
  if (target >= 0 && target < list.ids.length) {
    const id = list.ids[target];
    return id === undefined ? null : { kind: "case", studyId: id };
  }
  const page = list.query.page + direction;
  const pages = Math.ceil(list.count / Math.max(1, list.query.page_size));
  if (page < 1 || page > pages) return null;
  return { kind: "page", page, pick: direction === 1 ? "first" : "last" };
}

/** 1-based position of the case in the whole list, or null when it is not in it. */
export function casePosition(list: CaseList, studyId: string): number | null {
  const index = list.ids.indexOf(studyId);
  if (index < 0) return null;
  return (list.query.page - 1) * list.query.page_size + index + 1;
}

function isCaseList(value: unknown): value is CaseList {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    Array.isArray(v.ids) &&
    v.ids.every((id) => typeof id === "string") &&
    typeof v.count === "number" &&
    typeof v.query === "object" &&
    v.query !== null
  );
}

export function loadCaseList(storage: Pick<Storage, "getItem"> | null): CaseList | null {
  try {
    const raw = storage?.getItem(CASE_LIST_KEY);
    if (!raw) return null;
    const parsed: unknown = JSON.parse(raw);
    return isCaseList(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

export function saveCaseList(
  storage: Pick<Storage, "setItem"> | null,
  list: CaseList,
): void {
  try {
    storage?.setItem(CASE_LIST_KEY, JSON.stringify(list));
  } catch {
    // Without storage, next/previous falls back to the first worklist page.
  }
}
