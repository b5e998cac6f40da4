/**
 * The reading-events endpoint's round trip, measured on the client's monotonic
 * clock. The server places each event at client_time + offset, where the offset
 * is its arrival time minus the batch's sent_at; that difference also holds
 * the request's one-way latency, always in the same direction. Sending the last
 * measured round trip lets the server take half of it back out (NTP's
 * assumption: the way there takes as long as the way back).
 */
export class RoundTrip {
  private lastMs: number | null = null;

  get ms(): number | null {
    return this.lastMs;
  }

  record(ms: number): void {
    if (Number.isFinite(ms) && ms >= 0) this.lastMs = Math.round(ms);
  }

  /**
   * Before the first batch: the quickest earlier API call of this page, from
   * the Resource Timing entries (request start to response start).
   */
  seedFromResourceTiming(perf: Performance | undefined = globalThis.performance): void {
    if (this.lastMs !== null || !perf || typeof perf.getEntriesByType !== "function") {
      return;
    }
    let best: number | null = null;
    for (const entry of perf.getEntriesByType("resource")) {
      const timing = entry as PerformanceResourceTiming;
      if (!timing.name.includes("/api/") || timing.requestStart <= 0) continue;
      const rtt = timing.responseStart - timing.requestStart;
      if (rtt > 0 && (best === null || rtt < best)) best = rtt;
    }
    if (best !== null) this.record(best);
  }
}

/**
 * The client-server clock offset (server minus client, ms) from one exchange,
 * without the request's latency: the server stamped its clock when the batch
 * arrived, half a round trip after it left.
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
