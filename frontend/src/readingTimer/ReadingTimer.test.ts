import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ReadingEventPayload } from "../api/readingEvents";
import { Outbox, type SendResult } from "./outbox";
import type { ClaimMessage, TabBus } from "./caseClaim";
import { ReadingTimer, type ReadingTimerOptions } from "./ReadingTimer";

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
      return Promise.resolve<SendResult>({ kind: "sent" });
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const make = (extra: Partial<ReadingTimerOptions> = {}) =>
    new ReadingTimer({
      studyId: "s1",
      outbox,
      idleMs: 1000,
      makeId: () => `id${ids++}`,
      tabBus: null,
      ...extra,
    });

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

  const at = (type: string) =>
    sent.filter((e) => e.type === type).map((e) => Date.parse(e.client_time));
  const t0 = Date.parse("2026-03-01T08:00:00Z");

  it("places the idle event at the last input, not at the end of the threshold", async () => {
    const timer = make({ idleMs: 60_000 });
    timer.start();
    await vi.advanceTimersByTimeAsync(10_000);
    document.dispatchEvent(new Event("keydown")); // last input at +10 s
    await vi.advanceTimersByTimeAsync(70_000 + 50); // silence past the threshold
    document.dispatchEvent(new Event("pointerdown")); // back at +80 s
    await vi.advanceTimersByTimeAsync(5_000);
    timer.stop();
    await vi.runOnlyPendingTimersAsync();

    expect(at("idle")).toEqual([t0 + 10_000]);
    const idle = sent.find((e) => e.type === "idle");
    expect(idle?.last_input_at).toBe(new Date(t0 + 10_000).toISOString());
    expect(at("active")).toEqual([t0 + 80_050]);
    // Active time from the events: 10 s before the silence, 5 s after.
    const active =
      (at("idle")[0] ?? 0) - t0 + ((at("closed")[0] ?? 0) - (at("active")[0] ?? 0));
    expect(active).toBe(15_000);
  });

  it("sends a heartbeat with the last input every interval, also while idle or hidden", async () => {
    const timer = make({ idleMs: 60_000, heartbeatMs: 30_000 });
    timer.start();
    await vi.advanceTimersByTimeAsync(20_000);
    document.dispatchEvent(new Event("wheel"));
    await vi.advanceTimersByTimeAsync(10_000); // first heartbeat at +30 s
    setVisibility("hidden");
    await vi.advanceTimersByTimeAsync(60_000); // +60 s and +90 s while hidden
    // The browser is quit here: no "closed" ever arrives. The heartbeats bound the loss.
    const beats = sent.filter((e) => e.type === "heartbeat");
    expect(beats.map((e) => Date.parse(e.client_time))).toEqual([
      t0 + 30_000,
      t0 + 60_000,
      t0 + 90_000,
    ]);
    expect(
      beats.every((e) => e.last_input_at === new Date(t0 + 20_000).toISOString()),
    ).toBe(true);
    timer.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent.filter((e) => e.type === "heartbeat")).toHaveLength(3);
  });

  it("starts the reading clock at the first image and ends it at the submit", async () => {
    const timer = make({
      readingId: "r1",
      aiShown: false,
      idleMs: 60_000,
    });
    timer.start();
    await vi.advanceTimersByTimeAsync(800); // images loading
    timer.firstImage();
    timer.firstImage(); // once only
    await vi.advanceTimersByTimeAsync(400);
    timer.submit();
    timer.stop(); // leaving the page after the submit adds nothing
    await vi.runOnlyPendingTimersAsync();
    expect(sent.map((e) => e.type)).toEqual(["opened", "first_image", "submitted"]);
    expect(at("first_image")).toEqual([t0 + 800]);
    expect(at("submitted")).toEqual([t0 + 1200]);
    expect(sent.every((e) => e.reading_id === "r1" && e.ai_shown === false)).toBe(true);
  });

  it("takes the first image from the viewer's performance mark", async () => {
    vi.useRealTimers(); // performance observers deliver on the real event loop
    const timer = make({ watchFirstImage: true, idleMs: 60_000 });
    timer.start();
    performance.mark("boneread:report-drawn"); // not an image
    await new Promise((r) => setTimeout(r, 30));
    expect(sent.map((e) => e.type)).toEqual(["opened"]);
    performance.mark("boneread:planar-first-image");
    await new Promise((r) => setTimeout(r, 30));
    timer.stop();
    await new Promise((r) => setTimeout(r, 0));
    expect(sent.map((e) => e.type)).toEqual(["opened", "first_image", "closed"]);
  });

  it("counts a case open in two tabs once: only the tab in use is visible", async () => {
    // Two tabs of one browser: a shared bus that delivers to the other subscribers.
    const subscribers = new Set<(m: ClaimMessage) => void>();
    const busFor = (): TabBus => {
      let mine: ((m: ClaimMessage) => void) | null = null;
      return {
        post: (m) => {
          for (const s of subscribers) if (s !== mine) s(m);
        },
        subscribe: (listener) => {
          mine = listener;
          subscribers.add(listener);
          return () => subscribers.delete(listener);
        },
      };
    };
    const first = make({ tabBus: busFor(), idleMs: 600_000 });
    first.start();
    await vi.advanceTimersByTimeAsync(5_000);
    const second = make({ tabBus: busFor(), idleMs: 600_000 });
    second.start(); // the new tab takes the case
    await vi.advanceTimersByTimeAsync(5_000);
    // Input reaches the first tab's document (both tabs share this test document, so
    // this also tells the second it is not in use): the first tab takes the case back.
    first["onActivity"]();
    await vi.advanceTimersByTimeAsync(3_000);
    second.stop();
    first.stop();
    await vi.runOnlyPendingTimersAsync();

    const of = (timer: ReadingTimer) =>
      sent.filter((e) => e.view_id === timer.viewId).map((e) => e.type);
    expect(of(first)).toEqual(["opened", "hidden", "visible", "closed"]);
    expect(of(second)).toEqual(["opened", "hidden", "closed"]);
    // Visible time summed over both tabs equals the wall clock: 13 s, not 21 s.
    const visibleMs = (timer: ReadingTimer) => {
      const events = sent.filter((e) => e.view_id === timer.viewId);
      let total = 0;
      let since: number | null = null;
      for (const e of events) {
        const t = Date.parse(e.client_time);
        if ((e.type === "opened" || e.type === "visible") && since === null) since = t;
        if ((e.type === "hidden" || e.type === "closed") && since !== null) {
          total += t - since;
          since = null;
        }
      }
      return total;
    };
    expect(visibleMs(first) + visibleMs(second)).toBe(13_000);
  });

  it("sends the close at page hide even while an earlier flush is still in flight", async () => {
    const batches: string[][] = [];
    let release: () => void = () => undefined;
    const slow = new Outbox(memoryStorage(), (events) => {
      batches.push(events.map((e) => e.type));
      // The first request never answers while the page is open.
      if (batches.length === 1) {
        return new Promise<SendResult>((resolve) => {
          release = () => resolve({ kind: "sent" });
        });
      }
      return Promise.resolve<SendResult>({ kind: "sent" });
    });
    const timer = new ReadingTimer({
      studyId: "s1",
      outbox: slow,
      idleMs: 60_000,
      makeId: () => `id${ids++}`,
      tabBus: null,
    });
    timer.start(); // "opened" goes out and hangs
    await vi.advanceTimersByTimeAsync(1000);
    window.dispatchEvent(new Event("pagehide"));
    // Synchronously, in the same task as the page hide: a request with the close.
    expect(batches.at(-1)).toContain("closed");
    release();
    await vi.runOnlyPendingTimersAsync();
  });
});
