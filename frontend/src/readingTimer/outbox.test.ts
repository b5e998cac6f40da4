import { describe, expect, it, vi } from "vitest";
import type { ReadingEventPayload } from "../api/readingEvents";
import { OUTBOX_KEY, Outbox, QUARANTINE_KEY, type SendResult } from "./outbox";

const SENT: SendResult = { kind: "sent" };

function memoryStorage() {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
  };
}

function event(n: number): ReadingEventPayload {
  return {
    id: `e${n}`,
    view_id: "v1",
    study_id: "s1",
    type: "active",
    client_time: new Date(2026, 0, 1, 0, 0, n).toISOString(),
    sequence: n,
  };
}

/** A fake server that stores what it accepts, keyed by event id as the real one must. */
function fakeServer() {
  const received: string[] = [];
  const stored = new Map<string, ReadingEventPayload>();
  let online = true;
  const send = (events: ReadingEventPayload[]): Promise<SendResult> => {
    if (!online) return Promise.reject(new TypeError("Failed to fetch"));
    for (const e of events) {
      received.push(e.id);
      stored.set(e.id, e);
    }
    return Promise.resolve(SENT);
  };
  return {
    send,
    received,
    stored,
    setOnline: (v: boolean) => {
      online = v;
    },
  };
}

describe("Outbox", () => {
  it("keeps events while offline and sends them once when back online", async () => {
    const storage = memoryStorage();
    const server = fakeServer();
    const outbox = new Outbox(storage, server.send);
    server.setOnline(false);
    outbox.enqueue(event(1));
    outbox.enqueue(event(2));
    await outbox.flush();
    expect(outbox.pending().map((e) => e.id)).toEqual(["e1", "e2"]);
    expect(server.received).toEqual([]);

    server.setOnline(true);
    await outbox.flush();
    await outbox.flush();
    expect(server.received).toEqual(["e1", "e2"]);
    expect(outbox.pending()).toEqual([]);
  });

  it("survives a reload: a new outbox on the same storage replays the queue once", async () => {
    const storage = memoryStorage();
    const server = fakeServer();
    server.setOnline(false);
    const before = new Outbox(storage, server.send);
    before.enqueue(event(1));
    await before.flush();
    expect(storage.data.get(OUTBOX_KEY)).toContain("e1");

    server.setOnline(true);
    const after = new Outbox(storage, server.send);
    await Promise.all([after.flush(), after.flush()]);
    expect(server.received).toEqual(["e1"]);
  });

  it("does not queue the same event twice", () => {
    const outbox = new Outbox(memoryStorage(), fakeServer().send);
    outbox.enqueue(event(1));
    outbox.enqueue(event(1));
    expect(outbox.pending()).toHaveLength(1);
  });

  it("sends in order and in batches", async () => {
    const storage = memoryStorage();
    const batches: number[] = [];
    const outbox = new Outbox(storage, (events) => {
      batches.push(events.length);
      return Promise.resolve(SENT);
    });
    for (let i = 0; i < 120; i++) outbox.enqueue(event(i));
    await outbox.flush();
    expect(batches).toEqual([50, 50, 20]);
    expect(outbox.pending()).toEqual([]);
  });

  it("keeps a batch the server should retry", async () => {
    const storage = memoryStorage();
    const outbox = new Outbox(storage, () => Promise.resolve({ kind: "retry" }));
    outbox.enqueue(event(1));
    await outbox.flush();
    await outbox.flush();
    expect(outbox.pending()).toHaveLength(1);
    expect(outbox.quarantined()).toEqual([]);
  });

  it("sets a poison event aside and sends every other event, before and after it", async () => {
    // The server refuses any batch holding e3 (a 404 for a case view it does not know),
    // as the real one did; the old outbox retried that batch forever.
    const storage = memoryStorage();
    const stored: string[] = [];
    const batches: string[][] = [];
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const outbox = new Outbox(storage, (events) => {
      batches.push(events.map((e) => e.id));
      if (events.some((e) => e.id === "e3")) {
        return Promise.resolve({
          kind: "refused",
          reason: "HTTP 404: no such case view",
        });
      }
      stored.push(...events.map((e) => e.id));
      return Promise.resolve(SENT);
    });
    const notices: string[] = [];
    outbox.onQuarantine((items) => notices.push(...items.map((q) => q.event.id)));
    for (let i = 1; i <= 6; i++) outbox.enqueue(event(i));
    await outbox.flush();
    expect(stored.sort()).toEqual(["e1", "e2", "e4", "e5", "e6"]);
    expect(outbox.pending()).toEqual([]);
    expect(outbox.quarantined().map((q) => [q.event.id, q.reason])).toEqual([
      ["e3", "HTTP 404: no such case view"],
    ]);
    expect(storage.data.get(QUARANTINE_KEY)).toContain("e3");
    expect(notices).toEqual(["e3"]);
    expect(warn).toHaveBeenCalled();
    expect(batches.filter((b) => b.length === 1 && b[0] === "e3")).toHaveLength(1);

    // Later events are not blocked, and the poison one is not sent again.
    outbox.enqueue(event(7));
    const before = batches.length;
    await outbox.flush();
    expect(stored).toContain("e7");
    expect(batches.slice(before)).toEqual([["e7"]]);
  });

  it("quarantines the events the server rejects one by one in an accepted batch", async () => {
    const storage = memoryStorage();
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const outbox = new Outbox(storage, () =>
      Promise.resolve({
        kind: "sent",
        rejected: [{ id: "e2", reason: "in the future" }],
      }),
    );
    for (let i = 1; i <= 3; i++) outbox.enqueue(event(i));
    await outbox.flush();
    expect(outbox.pending()).toEqual([]);
    expect(outbox.quarantined().map((q) => q.event.id)).toEqual(["e2"]);
  });

  it("keeps events enqueued while a flush is in flight", async () => {
    const storage = memoryStorage();
    let release: () => void = () => undefined;
    const sent: string[] = [];
    const outbox = new Outbox(storage, (events) => {
      sent.push(...events.map((e) => e.id));
      return new Promise<SendResult>((resolve) => {
        release = () => resolve(SENT);
      });
    });
    outbox.enqueue(event(1));
    const flushing = outbox.flush();
    outbox.enqueue(event(2));
    release();
    await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    release();
    await flushing;
    expect(sent).toEqual(["e1", "e2"]);
    expect(outbox.pending()).toEqual([]);
  });

  it("ignores a corrupt stored queue", () => {
    const storage = memoryStorage();
    storage.setItem(OUTBOX_KEY, "{broken");
    expect(new Outbox(storage, fakeServer().send).pending()).toEqual([]);
  });
});
