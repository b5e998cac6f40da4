import { afterEach, describe, expect, it, vi } from "vitest";
import type { ReadingEventPayload } from "../api/readingEvents";
import { clockOffsetMs } from "./roundTrip";
import { roundTrip, sendReadingEvents } from "./sendReadingEvents";

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

describe("sendReadingEvents", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("refuses for good a 404 (unknown case view) so that the outbox sets it aside", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(() => Promise.resolve(respond(404, { message: "No such case view." }))),
    );
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
      vi.stubGlobal("fetch", vi.fn(answer));
      results.push((await sendReadingEvents([EVENT])).kind);
    }
    expect(results).toEqual(["retry", "retry", "retry", "refused"]);
  });

  it("passes on the server's per-event rejections", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(() =>
        Promise.resolve(
          respond(200, { accepted: [], rejected: [{ id: "e1", reason: "future" }] }),
        ),
      ),
    );
    expect(await sendReadingEvents([EVENT])).toEqual({
      kind: "sent",
      rejected: [{ id: "e1", reason: "future" }],
    });
  });

  it("sends the send time and the last measured round trip with every batch", async () => {
    const bodies: Record<string, unknown>[] = [];
    let clock = 1000;
    vi.spyOn(performance, "now").mockImplementation(() => clock);
    vi.stubGlobal(
      "fetch",
      vi.fn((_url: string, init: RequestInit) => {
        bodies.push(JSON.parse(String(init.body)) as Record<string, unknown>);
        clock += 240; // this request's round trip
        return Promise.resolve(respond(200, { accepted: ["e1"] }));
      }),
    );
    await sendReadingEvents([EVENT]);
    await sendReadingEvents([EVENT]);
    expect(typeof bodies[0]?.sent_at).toBe("string");
    expect(bodies[1]?.rtt_ms).toBe(240);
    expect(roundTrip.ms).toBe(240);
  });
});

describe("clockOffsetMs", () => {
  it("takes half the round trip out of the offset", () => {
    // The client clock is 5 s behind; the request took 150 ms each way.
    const sentAt = new Date("2026-03-01T08:00:00.000Z");
    const serverTime = new Date("2026-03-01T08:00:05.150Z");
    expect(clockOffsetMs({ sentAt, serverTime, rttMs: 300 })).toBe(5000);
  });
});
