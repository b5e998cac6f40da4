import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ReadingEventPayload } from "../api/readingEvents";
import { Outbox, type SendResult } from "./outbox";
import { ReadingTimer } from "./ReadingTimer";

function memoryStorage() {
  const data = new Map<string, string>();
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
  };
}

function setVisibility(state: "visible" | "hidden") {
  Object.defineProperty(document, "visibilityState", {
    configurable: true,
    get: () => state,
  });
  document.dispatchEvent(new Event("visibilitychange"));
}

describe("ReadingTimer", () => {
  let sent: ReadingEventPayload[];
  let outbox: Outbox;
  let ids: number;

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-03-01T08:00:00Z"));
    Object.defineProperty(document, "visibilityState", {
      configurable: true,
      get: () => "visible",
    });
    sent = [];
    ids = 0;
    outbox = new Outbox(memoryStorage(), (events) => {
      sent.push(...events);
      return Promise.resolve<SendResult>("sent");
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const make = () =>
    new ReadingTimer({ studyId: "s1", outbox, idleMs: 1000, makeId: () => `id${ids++}` });

  it("turns visibility, idleness and activity into ordered events with client ids", async () => {
    const timer = make();
    timer.start();
    await vi.advanceTimersByTimeAsync(1500); // idle after 1 s
    document.dispatchEvent(new Event("pointermove")); // active
    setVisibility("hidden");
    await vi.advanceTimersByTimeAsync(5000); // no idle while hidden
    setVisibility("visible");
    timer.stop();
    await vi.runOnlyPendingTimersAsync();

    expect(sent.map((e) => e.type)).toEqual([
      "opened",
      "idle",
      "active",
      "hidden",
      "visible",
      "closed",
    ]);
    expect(sent.map((e) => e.sequence)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(new Set(sent.map((e) => e.id)).size).toBe(sent.length);
    expect(sent.every((e) => e.view_id === timer.viewId && e.study_id === "s1")).toBe(
      true,
    );
  });

  it("removes its listeners on stop", async () => {
    const timer = make();
    timer.start();
    timer.stop();
    await vi.runOnlyPendingTimersAsync();
    const count = sent.length;
    setVisibility("hidden");
    document.dispatchEvent(new Event("keydown"));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent.length).toBe(count);
  });

  it("records a submission and nothing after it", async () => {
    const timer = make();
    timer.start();
    timer.submit();
    timer.stop();
    await vi.runOnlyPendingTimersAsync();
    expect(sent.map((e) => e.type)).toEqual(["opened", "submitted"]);
  });
});
