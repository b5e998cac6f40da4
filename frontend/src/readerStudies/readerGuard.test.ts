import { describe, expect, it } from "vitest";
import { matchRoute } from "../router/routes";
import { readerRedirect } from "./readerGuard";

describe("readerRedirect", () => {
  it("sends a reader from the worklist and clinical cases to My reading", () => {
    for (const path of ["/", "/worklist", "/cases/abc", "/reader-studies"]) {
      expect(readerRedirect(matchRoute(path), "reader")).toBe("/reading");
    }
    expect(readerRedirect(matchRoute("/reading"), "reader")).toBeNull();
    expect(readerRedirect(matchRoute("/reading/r1"), "reader")).toBeNull();
  });

  it("leaves other roles where they are", () => {
    expect(readerRedirect(matchRoute("/worklist"), "physician")).toBeNull();
    expect(readerRedirect(matchRoute("/reader-studies/x"), "study_admin")).toBeNull();
  });

  it("parses the reader-study routes", () => {
    expect(matchRoute("/reading/r%201")).toEqual({ name: "reading", readingId: "r 1" });
    expect(matchRoute("/reader-studies/s1")).toEqual({ name: "readerStudy", id: "s1" });
    expect(matchRoute("/reading/%E0%A4%A")).toEqual({ name: "notFound" });
  });
});
