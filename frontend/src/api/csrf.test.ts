import { describe, expect, it } from "vitest";
import { isUnsafeMethod, readCookie } from "./csrf";

describe("readCookie", () => {
  it("finds a cookie among others", () => {
    expect(readCookie("csrftoken", "a=1; csrftoken=abc; b=2")).toBe("abc");
  });
  it("does not match a cookie whose name only ends the same", () => {
    expect(readCookie("csrftoken", "xcsrftoken=bad")).toBeNull();
  });
  it("returns null when absent", () => {
    expect(readCookie("csrftoken", "")).toBeNull();
  });
});

describe("isUnsafeMethod", () => {
  it("treats POST, PUT, PATCH and DELETE as unsafe", () => {
    for (const m of ["POST", "put", "PATCH", "DELETE"])
      expect(isUnsafeMethod(m)).toBe(true);
    for (const m of ["GET", "head", "OPTIONS"]) expect(isUnsafeMethod(m)).toBe(false);
  });
});
