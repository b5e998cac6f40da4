import { describe, expect, it } from "vitest";
import { matchRoute, readerStudyResultsPath } from "../router/routes";

describe("results route", () => {
  it("parses /reader-studies/<id>/results and builds it back", () => {
    const path = readerStudyResultsPath("a b/c");
    expect(matchRoute(path)).toEqual({
      name: "readerStudyResults",
      readerStudyId: "a b/c",
    });
    expect(matchRoute("/reader-studies/x/results/")).toEqual({
      name: "readerStudyResults",
      readerStudyId: "x",
    });
    expect(matchRoute("/reader-studies/x/other")).toEqual({ name: "notFound" });
  });
});
