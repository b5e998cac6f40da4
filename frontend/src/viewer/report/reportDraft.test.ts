import { describe, expect, it } from "vitest";
import type { Report } from "../../api/reports";
import { contentOf, EMPTY_CONTENT, isDirty } from "./reportDraft";

const report: Report = {
  id: "r",
  study_id: "s",
  status: "draft",
  version: 2,
  history: "乳腺癌术后",
  findings: "胸椎多发异常浓聚",
  impression: "骨转移",
  author: null,
  created: "",
  modified: "",
  signed_by: null,
  signed_at: null,
  signed_version: null,
  addenda: [],
};

describe("report draft", () => {
  it("is clean when it matches the saved version", () => {
    expect(isDirty(contentOf(report), report)).toBe(false);
    expect(isDirty(EMPTY_CONTENT, null)).toBe(false);
  });
  it("is dirty after any field changes", () => {
    expect(isDirty({ ...contentOf(report), impression: "退行性变" }, report)).toBe(true);
    expect(isDirty({ ...EMPTY_CONTENT, findings: "未见明显异常" }, null)).toBe(true);
  });
});
