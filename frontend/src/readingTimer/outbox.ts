import type { EventProblem, ReadingEventPayload } from "../api/readingEvents";

/**
 * What the server said about one batch:
 * - sent: stored (or recognised as a replay); `rejected` names single events it refused for good;
 * - retry: not now (offline, server down, session expired): keep everything, try later;
 * - refused: the whole batch was refused for good (a 4xx): one of its events is bad.
 */
export type SendResult =
  | { kind: "sent"; rejected?: EventProblem[] }
  | { kind: "retry" }
  | { kind: "refused"; reason: string };
export type Sender = (events: ReadingEventPayload[]) => Promise<SendResult>;

export interface QuarantinedEvent {
  event: ReadingEventPayload;
  reason: string;
  at: string;
}

export const OUTBOX_KEY = "boneread.readingEvents.outbox";
export const QUARANTINE_KEY = "boneread.readingEvents.quarantine";
const MAX_BATCH = 50;
/** A cap so that a browser left offline for days cannot fill its storage. */
const MAX_QUEUED = 5000;
const MAX_QUARANTINED = 500;

type StorageLike = Pick<Storage, "getItem" | "setItem">;
type QuarantineListener = (events: QuarantinedEvent[]) => void;

function isEvent(value: unknown): value is ReadingEventPayload {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === "string" &&
    typeof v.type === "string" &&
    typeof v.view_id === "string"
  );
}

function isQuarantined(value: unknown): value is QuarantinedEvent {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return isEvent(v.event) && typeof v.reason === "string";
}

/**
 * Reading events waiting for the server, persisted in localStorage so that
 * they survive a lost connection, a reload or a closed tab. Each event is
 * removed only after the server acknowledged it, and the server recognises
 * replays by the event id, so an event is counted once however often it is
 * sent. One flush runs at a time.
 *
 * An event the server refuses for good (a 4xx for it, or for a batch it is in)
 * is set aside in a quarantine, with the reason, and reported to listeners and
 * the console: it never blocks the events behind it. A refused batch is split
 * in halves until the offending event is alone.
 */
export class Outbox {
  private flushing: Promise<void> | null = null;
  private readonly listeners = new Set<QuarantineListener>();

  constructor(
    private readonly storage: StorageLike | null,
    private readonly send: Sender,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private read<T>(key: string, guard: (v: unknown) => v is T): T[] {
    try {
      const raw = this.storage?.getItem(key);
      if (!raw) return [];
      const parsed: unknown = JSON.parse(raw);
      return Array.isArray(parsed) ? parsed.filter(guard) : [];
    } catch {
      return [];
    }
  }

  pending(): ReadingEventPayload[] {
    return this.read(OUTBOX_KEY, isEvent);
  }

  /** Events the server refused for good, newest last. */
  quarantined(): QuarantinedEvent[] {
    return this.read(QUARANTINE_KEY, isQuarantined);
  }

  /** Called with the newly quarantined events; returns the unsubscribe function. */
  onQuarantine(listener: QuarantineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private write(key: string, values: unknown[], cap: number): void {
    try {
      this.storage?.setItem(key, JSON.stringify(values.slice(-cap)));
    } catch {
      // Storage full or blocked: the events still go out if the network is up.
    }
  }

  enqueue(event: ReadingEventPayload): void {
    const queue = this.pending();
    if (queue.some((e) => e.id === event.id)) return;
    queue.push(event);
    this.write(OUTBOX_KEY, queue, MAX_QUEUED);
  }

  private remove(ids: Set<string>): void {
    // Re-read: another flush or another tab may have changed the queue meanwhile.
    this.write(
      OUTBOX_KEY,
      this.pending().filter((e) => !ids.has(e.id)),
      MAX_QUEUED,
    );
  }

  private quarantine(items: { event: ReadingEventPayload; reason: string }[]): void {
    if (items.length === 0) return;
    const at = this.now().toISOString();
    const added = items.map((item) => ({ ...item, at }));
    this.write(QUARANTINE_KEY, [...this.quarantined(), ...added], MAX_QUARANTINED);
    console.warn(
      `Reading timer: the server refused ${added.length} event(s) for good; they are set aside`,
      added.map((q) => `${q.event.type} ${q.event.id}: ${q.reason}`),
    );
    for (const listener of this.listeners) listener(added);
  }

  /** Whether a flush is in flight. */
  get busy(): boolean {
    return this.flushing !== null;
  }

  /**
   * The page is closing: sends what is queued now, in one request, even while a
   * flush is in flight (that one may never finish). The server recognises the
   * events a running flush also sends by their ids.
   */
  sendNow(): void {
    const batch = this.pending().slice(-MAX_BATCH);
    if (batch.length === 0) return;
    void this.send(batch)
      .then((result) => {
        if (result.kind === "sent") this.remove(new Set(batch.map((e) => e.id)));
      })
      .catch(() => undefined);
  }

  /** Sends everything queued, oldest first; resolves when done or when the server is unreachable. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.run().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async run(): Promise<void> {
    const done = new Set<string>();
    let limit = MAX_BATCH;
    for (;;) {
      const batch = this.pending()
        .filter((e) => !done.has(e.id))
        .slice(0, limit);
      if (batch.length === 0) return;
      let result: SendResult;
      try {
        result = await this.send(batch);
      } catch {
        result = { kind: "retry" };
      }
      if (result.kind === "retry") return;
      if (result.kind === "refused" && batch.length > 1) {
        // Someone in this batch is bad: halve until it is alone.
        limit = Math.ceil(batch.length / 2);
        continue;
      }
      const ids = new Set(batch.map((e) => e.id));
      for (const id of ids) done.add(id);
      if (result.kind === "refused") {
        const reason = result.reason;
        this.quarantine(batch.map((event) => ({ event, reason })));
      } else {
        const reasons = new Map((result.rejected ?? []).map((r) => [r.id, r.reason]));
        this.quarantine(
          batch
            .filter((e) => reasons.has(e.id))
            .map((event) => ({ event, reason: reasons.get(event.id) ?? "" })),
        );
      }
      this.remove(ids);
      limit = Math.min(MAX_BATCH, limit * 2);
    }
  }
}
