import { describe, expect, it } from "vitest";
import { actionForKey } from "./shortcuts";

const key = (k: string, extra: Partial<Parameters<typeof actionForKey>[0]> = {}) =>
  actionForKey({ key: k, ctrlKey: false, metaKey: false, altKey: false, ...extra });

describe("actionForKey", () => {
  it("maps the frequent actions", () => {
    expect(key("n")).toEqual({ type: "nextCase" });
    expect(key("N")).toEqual({ type: "nextCase" });
    expect(key("PageUp")).toEqual({ type: "prevCase" });
    expect(key("3")).toEqual({ type: "preset", preset: "medium" });
    expect(key("?")).toEqual({ type: "toggleHelp" });
    expect(key("Escape")).toEqual({ type: "closeHelp" });
  });
  it("ignores keys with modifiers and unknown keys", () => {
    expect(key("r", { ctrlKey: true })).toBeNull();
    expect(key("x")).toBeNull();
  });
  it("ignores keys typed into form fields", () => {
    expect(key("n", { targetTag: "input" })).toBeNull();
    expect(key("n", { targetTag: "TEXTAREA" })).toBeNull();
    expect(key("n", { targetTag: "DIV", targetEditable: true })).toBeNull();
    expect(key("n", { targetTag: "INPUT", targetType: "search" })).toBeNull();
    expect(key("i", { targetTag: "SELECT" })).toBeNull();
  });
  it("still works after a click on a checkbox or a slider", () => {
    expect(key("i", { targetTag: "INPUT", targetType: "checkbox" })).toEqual({
      type: "invert",
    });
    expect(key("o", { targetTag: "input", targetType: "range" })).toEqual({
      type: "toggleOverlay",
    });
    expect(key("2", { targetTag: "BUTTON" })).toEqual({ type: "preset", preset: "low" });
  });
});
