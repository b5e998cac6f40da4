import type { ReadingEventPayload } from "../api/readingEvents";

export type SendResult = "sent" | "retry" | "drop";
export type Sender = (events: ReadingEventPayload[]) => Promise<SendResult>;

export const OUTBOX_KEY = "boneread.readingEvents.outbox";
const MAX_BATCH = 50;
/** A cap so that a browser left offline for days cannot fill its storage. */
const MAX_QUEUED = 5000;

type StorageLike = Pick<Storage, "getItem" | "setItem">;

function isEvent(value: unknown): value is ReadingEventPayload {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === "string" &&
    typeof v.type === "string" &&
    typeof v.view_id === "string"
  );
}

/**
 * Reading events waiting for the server, persisted in localStorage so that
 * they survive a lost connection, a reload or a closed tab. Each event is
 * removed only after the server acknowledged it, and the server recognises
 * replays by the event id, so an event is counted once however often it is
 * sent. One flush runs at a time.
 */
export class Outbox {
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly storage: StorageLike | null,
    private readonly send: Sender,
  ) {}

  pending(): ReadingEventPayload[] {
    try {
      const raw = this.storage?.getItem(OUTBOX_KEY);
      if (!raw) return [];
      const parsed: unknown = JSON.parse(raw);
      return Array.isArray(parsed) ? parsed.filter(isEvent) : [];
    } catch {
      return [];
    }
  }

  private write(events: ReadingEventPayload[]): void {
    try {
      this.storage?.setItem(OUTBOX_KEY, JSON.stringify(events.slice(-MAX_QUEUED)));
    } catch {
      // Storage full or blocked: the events still go out if the network is up.
    }
  }

  enqueue(event: ReadingEventPayload): void {
    const queue = this.pending();
    if (queue.some((e) => e.id === event.id)) return;
    queue.push(event);
    this.write(queue);
  }

  private remove(ids: Set<string>): void {
    // Re-read: another flush or another tab may have changed the queue meanwhile.
    this.write(this.pending().filter((e) => !ids.has(e.id)));
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
    const sent = new Set<string>();
    for (;;) {
      const batch = this.pending()
        .filter((e) => !sent.has(e.id))
        .slice(0, MAX_BATCH);
      if (batch.length === 0) return;
      let result: SendResult;
      try {
        result = await this.send(batch);
      } catch {
        result = "retry";
      }
      if (result === "retry") return;
      const ids = new Set(batch.map((e) => e.id));
      for (const id of ids) sent.add(id);
      this.remove(ids);
    }
  }
}
