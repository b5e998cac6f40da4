import { describe, expect, it } from "vitest";
import {
  casePosition,
  loadCaseList,
  neighbour,
  saveCaseList,
  type CaseList,
} from "./caseNavigation";
import {
  EMPTY_QUERY,
  pageCount,
  parseWorklistSearch,
  toStudyQuery,
  toggleOrdering,
  worklistSearchString,
} from "./worklistQuery";

describe("worklist query in the URL", () => {
  it("round-trips non-default values and drops defaults", () => {
    const q = {
      ...EMPTY_QUERY,
      search: "张三",
      modality: "NM",
      page: 3,
      date_from: "2026-01-02",
    };
    const s = worklistSearchString(q);
    expect(s).not.toContain("ordering");
    expect(s).not.toContain("page_size");
    expect(parseWorklistSearch(s)).toEqual(q);
    expect(worklistSearchString(EMPTY_QUERY)).toBe("");
  });

  it("rejects malformed values", () => {
    const q = parseWorklistSearch("?page=-2&page_size=99999&date_from=yesterday");
    expect(q.page).toBe(1);
    expect(q.page_size).toBe(200);
    expect(q.date_from).toBe("");
  });

  it("sends only the filters that are set", () => {
    expect(toStudyQuery({ ...EMPTY_QUERY, search: "  P001 " })).toEqual({
      ordering: "-study_date",
      page: 1,
      page_size: 25,
      search: "P001",
    });
  });

  it("toggles the sort direction on the same column", () => {
    expect(toggleOrdering("-study_date", "patient_name")).toBe("patient_name");
    expect(toggleOrdering("patient_name", "patient_name")).toBe("-patient_name");
    expect(toggleOrdering("-patient_name", "patient_name")).toBe("patient_name");
  });

  it("counts pages", () => {
    expect(pageCount(0, 25)).toBe(1);
    expect(pageCount(26, 25)).toBe(2);
  });
});

describe("case navigation", () => {
  const list: CaseList = {
    query: { ...EMPTY_QUERY, page: 2, page_size: 3 },
    ids: ["a", "b", "c"],
    count: 8,
  };

  it("steps within the page", () => {
    expect(neighbour(list, "b", 1)).toEqual({ kind: "case", studyId: "c" });
    expect(neighbour(list, "b", -1)).toEqual({ kind: "case", studyId: "a" });
  });

  it("asks for the next or previous page at the edges", () => {
    expect(neighbour(list, "c", 1)).toEqual({ kind: "page", page: 3, pick: "first" });
    expect(neighbour(list, "a", -1)).toEqual({ kind: "page", page: 1, pick: "last" });
  });

  it("stops at the ends of the whole list", () => {
    const last = { ...list, query: { ...list.query, page: 3 }, ids: ["g", "h"] };
    expect(neighbour(last, "h", 1)).toBeNull();
    const first = { ...list, query: { ...list.query, page: 1 } };
    expect(neighbour(first, "a", -1)).toBeNull();
    expect(neighbour(list, "zzz", 1)).toBeNull();
  });

  it("gives the position in the whole list", () => {
    expect(casePosition(list, "b")).toBe(5);
  });

  it("stores and reloads the list, rejecting garbage", () => {
    const data = new Map<string, string>();
    const storage = {
      getItem: (k: string) => data.get(k) ?? null,
      setItem: (k: string, v: string) => void data.set(k, v),
    };
    saveCaseList(storage, list);
    expect(loadCaseList(storage)).toEqual(list);
    data.set("boneread.caseList", "{not json");
    expect(loadCaseList(storage)).toBeNull();
  });
});
