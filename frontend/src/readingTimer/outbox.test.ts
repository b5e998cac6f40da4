import { describe, expect, it } from "vitest";
import type { ReadingEventPayload } from "../api/readingEvents";
import { OUTBOX_KEY, Outbox, type SendResult } from "./outbox";

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
    return Promise.resolve("sent");
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
      return Promise.resolve("sent");
    });
    for (let i = 0; i < 120; i++) outbox.enqueue(event(i));
    await outbox.flush();
    expect(batches).toEqual([50, 50, 20]);
    expect(outbox.pending()).toEqual([]);
  });

  it("drops a batch the server rejects for good, and keeps one it should retry", async () => {
    const storage = memoryStorage();
    let answer: SendResult = "retry";
    const outbox = new Outbox(storage, () => Promise.resolve(answer));
    outbox.enqueue(event(1));
    await outbox.flush();
    expect(outbox.pending()).toHaveLength(1);
    answer = "drop";
    await outbox.flush();
    expect(outbox.pending()).toHaveLength(0);
  });

  it("keeps events enqueued while a flush is in flight", async () => {
    const storage = memoryStorage();
    let release: () => void = () => undefined;
    const sent: string[] = [];
    const outbox = new Outbox(storage, (events) => {
      sent.push(...events.map((e) => e.id));
      return new Promise<SendResult>((resolve) => {
        release = () => resolve("sent");
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
