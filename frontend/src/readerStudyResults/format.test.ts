import { describe, expect, it } from "vitest";
import { fmt, fmtCi, fmtP } from "./format";

describe("results number formats (same strings as the PDF's Python format)", () => {
  it("rounds like Python: exact binary ties to even, others to nearest", () => {
    expect(fmt(0.125, 2)).toBe("0.12"); // exact tie: Python gives 0.12, toFixed 0.13
    expect(fmt(0.375, 2)).toBe("0.38");
    expect(fmt(102.25, 1)).toBe("102.2");
    expect(fmt(0.615, 2)).toBe("0.61"); // binary 0.61499999...: not a tie
    expect(fmt(164.04, 1)).toBe("164.0");
    expect(fmt(-0.125, 2)).toBe("-0.12");
    expect(fmt(0.77777, 3)).toBe("0.778");
  });
  it("shows a dash for missing values and <0.001 for tiny p", () => {
    expect(fmt(null)).toBe("–");
    expect(fmtP(0.0004)).toBe("<0.001");
    expect(fmtP(0.031)).toBe("0.031");
    expect(fmtCi([0.5512, 0.7051], 2)).toBe("0.55 – 0.71");
    expect(fmtCi(null)).toBe("–");
  });
});
