import { describe, expect, it, vi } from "vitest";
import { addLeaveGuard, hasUnsavedWork, pendingLeave, requestLeave } from "./leaveGuard";

describe("leave guard", () => {
  it("lets navigation through when nothing is unsaved", () => {
    const go = vi.fn();
    expect(requestLeave("/worklist", go)).toBe(true);
    expect(pendingLeave()).toBeNull();
    expect(go).not.toHaveBeenCalled();
  });

  it("holds navigation while a guard is dirty until the user answers", () => {
    let dirty = true;
    const remove = addLeaveGuard(() => dirty);
    const go = vi.fn(() => {
      // The confirmed navigation itself is not asked about again.
      expect(hasUnsavedWork()).toBe(false);
    });
    expect(requestLeave("/cases/b", go)).toBe(false);
    expect(pendingLeave()?.to).toBe("/cases/b");
    pendingLeave()?.stay();
    expect(pendingLeave()).toBeNull();
    expect(go).not.toHaveBeenCalled();

    expect(requestLeave("/cases/b", go)).toBe(false);
    pendingLeave()?.proceed();
    expect(go).toHaveBeenCalledTimes(1);
    expect(hasUnsavedWork()).toBe(true);

    dirty = false;
    expect(requestLeave("/cases/c", go)).toBe(true);
    remove();
  });

  it("asks the browser before unload only while something is unsaved", () => {
    const remove = addLeaveGuard(() => true);
    const event = new Event("beforeunload", { cancelable: true });
    window.dispatchEvent(event);
    expect(event.defaultPrevented).toBe(true);
    remove();
    const after = new Event("beforeunload", { cancelable: true });
    window.dispatchEvent(after);
    expect(after.defaultPrevented).toBe(false);
  });
});
