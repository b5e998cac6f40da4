import { describe, expect, it } from "vitest";
import { ApiError } from "../api/ApiError";
import { parseReaders } from "./parseReaders";
import { ssErrorText, ssText } from "./SampleSizePanel.messages";

describe("parseReaders", () => {
  it("reads a list and a range", () => {
    expect(parseReaders("4, 6,8")).toEqual([4, 6, 8]);
    expect(parseReaders("4-7")).toEqual([4, 5, 6, 7]);
  });
  it("refuses anything else", () => {
    expect(parseReaders("")).toBeNull();
    expect(parseReaders("8-4")).toBeNull();
    expect(parseReaders("four")).toBeNull();
    expect(parseReaders("4,,6")).toBeNull();
  });
});

describe("sample-size errors in the user's language", () => {
  const error = new ApiError(
    400,
    "The pilot study is not finished: 3 of 4.",
    {},
    "samplesize_pilot_not_finished",
    {
      done: 3,
      expected: 4,
    },
  );
  it("fills the code's sentence with the params", () => {
    expect(ssErrorText("en", error)).toBe(
      "The pilot study is not finished: 3 of 4 readings submitted.",
    );
    expect(ssErrorText("zh", error)).toBe("预试验研究尚未完成：已提交 3/4 次阅片。");
  });
  it("joins list params", () => {
    const missing = new ApiError(400, "m", {}, "samplesize_missing_components", {
      fields: ["reader_arm", "residual"],
    });
    expect(ssErrorText("en", missing)).toBe(
      "Enter every variance component: reader_arm, residual.",
    );
  });
  it("has every key in both languages", () => {
    expect(ssText("zh", "title")).toBe("样本量估算");
    expect(ssText("en", "unreachable", { max: 2000 })).toBe("more than 2000");
  });
});
