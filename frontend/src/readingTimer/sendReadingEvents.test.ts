import { afterEach, describe, expect, it, vi } from "vitest";
import type { ReadingEventPayload } from "../api/readingEvents";
import { ClockSync, clockOffsetMs } from "./clockSync";
import { sendReadingEvents } from "./sendReadingEvents";

const EVENT: ReadingEventPayload = {
  id: "e1",
  view_id: "v1",
  study_id: "s1",
  type: "opened",
  client_time: "2026-03-01T08:00:00.000Z",
  sequence: 0,
};

function respond(status: number, body: unknown) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

/** fetch for the events endpoint; the clock endpoint answers with the client's own time. */
function stubFetch(events: (init: RequestInit) => Promise<Response>) {
  const mock = vi.fn((url: string, init: RequestInit) => {
    if (url.includes("/clock/")) {
      return Promise.resolve(respond(200, { server_time: new Date().toISOString() }));
    }
    return events(init);
  });
  vi.stubGlobal("fetch", mock);
  return mock;
}

describe("sendReadingEvents", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("refuses for good a 404 (unknown case view) so that the outbox sets it aside", async () => {
    stubFetch(() => Promise.resolve(respond(404, { message: "No such case view." })));
    expect(await sendReadingEvents([EVENT])).toEqual({
      kind: "refused",
      reason: "HTTP 404: No such case view.",
    });
  });

  it("retries offline, server errors and a lapsed login, not a refusal of the case", async () => {
    const answers = [
      () => Promise.reject(new TypeError("Failed to fetch")),
      () => Promise.resolve(respond(503, { message: "down" })),
      () =>
        Promise.resolve(respond(403, { message: "CSRF Failed: CSRF token missing." })),
      () =>
        Promise.resolve(
          respond(403, { message: "This case is not in your current reading session." }),
        ),
    ];
    const results = [];
    for (const answer of answers) {
      stubFetch(answer);
      results.push((await sendReadingEvents([EVENT])).kind);
    }
    expect(results).toEqual(["retry", "retry", "retry", "refused"]);
  });

  it("passes on the server's per-event rejections", async () => {
    stubFetch(() =>
      Promise.resolve(
        respond(200, {
          accepted: [],
          rejected: [{ id: "e1", code: "future", reason: "in the future" }],
        }),
      ),
    );
    expect(await sendReadingEvents([EVENT])).toEqual({
      kind: "sent",
      rejected: [{ id: "e1", reason: "future: in the future" }],
    });
  });

  it("sends the send time and the measured clock offset with every batch", async () => {
    const bodies: Record<string, unknown>[] = [];
    stubFetch((init) => {
      bodies.push(JSON.parse(String(init.body)) as Record<string, unknown>);
      return Promise.resolve(respond(200, { accepted: ["e1"] }));
    });
    await sendReadingEvents([EVENT]);
    expect(typeof bodies[0]?.sent_at).toBe("string");
    expect(typeof bodies[0]?.clock_offset_ms).toBe("number");
    expect(Math.abs(Number(bodies[0]?.clock_offset_ms))).toBeLessThan(1000);
  });
});

describe("clock offset", () => {
  it("takes half the round trip out of the offset", () => {
    // The client clock is 5 s behind; the request took 150 ms each way.
    const sentAt = new Date("2026-03-01T08:00:00.000Z");
    const serverTime = new Date("2026-03-01T08:00:05.150Z");
    expect(clockOffsetMs({ sentAt, serverTime, rttMs: 300 })).toBe(5000);
  });

  it("measures against the server clock and keeps the quickest of its samples", async () => {
    // Client clock 5 s behind the server. Exchanges: 100 ms out / 500 ms back (asymmetric,
    // RTT 600), then 50 ms each way (RTT 100), then 300 / 300 (RTT 600).
    let mono = 0;
    let client = Date.parse("2026-03-01T08:00:00Z");
    const tick = (ms: number) => {
      mono += ms;
      client += ms;
    };
    const legs = [
      [100, 500],
      [50, 50],
      [300, 300],
    ];
    let i = 0;
    const sync = new ClockSync(
      () => {
        const [out, back] = legs[i++] ?? [0, 0];
        tick(out ?? 0);
        const serverNow = new Date(client + 5000).toISOString();
        tick(back ?? 0);
        return Promise.resolve(serverNow);
      },
      () => mono,
      () => new Date(client),
    );
    await sync.refresh();
    expect(i).toBe(3);
    // The quick exchange: exact. Without the half-RTT correction (arrival - sent) it would be
    // 5050; the first, asymmetric exchange alone would give 4800.
    expect(sync.offsetMs).toBe(5000);
    // Fresh: no new exchange, the same offset for every batch.
    await sync.refresh();
    expect(i).toBe(3);
  });
});
