import { describe, expect, it } from "vitest";
import { alphabeticName, formatPersonName } from "./personName";

describe("formatPersonName", () => {
  it("shows the ideographic group of a Chinese name", () => {
    expect(formatPersonName("HU^LIHUA=胡^丽华")).toBe("胡丽华");
    expect(alphabeticName("HU^LIHUA=胡^丽华")).toBe("HU LIHUA");
  });
  it("falls back to the alphabetic group", () => {
    expect(formatPersonName("Smith^John")).toBe("Smith John");
    expect(formatPersonName("张三")).toBe("张三");
    expect(formatPersonName("")).toBe("");
    expect(formatPersonName(null)).toBe("");
  });
});
