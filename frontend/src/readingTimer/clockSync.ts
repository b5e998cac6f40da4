/**
 * The client-server clock offset, measured without the request's latency.
 *
 * The server places each event at client_time + offset. Measuring the offset
 * as (arrival on the server - sent_at) would include the request's one-way
 * latency, always in the same direction. Instead the client asks the server's
 * clock (GET /api/reading-events/clock/) and, like NTP, assumes the answer was
 * stamped half a round trip after the question left. Of a few samples, the one
 * with the shortest round trip is kept: its error is smallest (at most half its
 * round trip).
 */
export function clockOffsetMs({
  sentAt,
  serverTime,
  rttMs,
}: {
  sentAt: Date;
  serverTime: Date;
  rttMs: number;
}): number {
  return serverTime.getTime() - sentAt.getTime() - rttMs / 2;
}

export interface ClockSample {
  offsetMs: number;
  rttMs: number;
}

const MAX_AGE_MS = 5 * 60_000;
const SAMPLES = 3;
/** A round trip this short leaves at most 25 ms of error: no need for more samples. */
const QUICK_MS = 50;

export class ClockSync {
  private best: ClockSample | null = null;
  private measuredAt = -Infinity;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly fetchServerTime: () => Promise<string>,
    private readonly monotonic: () => number = () => performance.now(),
    private readonly wall: () => Date = () => new Date(),
  ) {}

  /** Server minus client clock in ms, or null before any measurement. */
  get offsetMs(): number | null {
    return this.best === null ? null : Math.round(this.best.offsetMs);
  }

  get sample(): ClockSample | null {
    return this.best;
  }

  /** Takes a sample unless a recent one exists; never throws (offline keeps the old one). */
  refresh(): Promise<void> {
    if (this.best !== null && this.monotonic() - this.measuredAt < MAX_AGE_MS) {
      return Promise.resolve();
    }
    this.inFlight ??= this.measure().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /**
   * Takes up to SAMPLES exchanges (stopping at a quick one) and keeps the one
   * with the shortest round trip. The offset then stays the same until it is
   * stale, so that events of one reading sent in different batches are placed
   * with the same offset: their spacing is the client's own, exactly.
   */
  async measure(): Promise<void> {
    let best: ClockSample | null = null;
    for (let i = 0; i < SAMPLES; i++) {
      const sample = await this.exchange();
      if (sample === null) break;
      if (best === null || sample.rttMs < best.rttMs) best = sample;
      if (sample.rttMs <= QUICK_MS) break;
    }
    if (best !== null) {
      this.best = best;
      this.measuredAt = this.monotonic();
    }
  }

  private async exchange(): Promise<ClockSample | null> {
    try {
      const start = this.monotonic();
      const sentAt = this.wall();
      const serverTime = new Date(await this.fetchServerTime());
      const rttMs = this.monotonic() - start;
      if (Number.isNaN(serverTime.getTime()) || rttMs < 0) return null;
      return { offsetMs: clockOffsetMs({ sentAt, serverTime, rttMs }), rttMs };
    } catch {
      // Offline: events still carry sent_at, and the last offset (if any) stays.
      return null;
    }
  }
}
