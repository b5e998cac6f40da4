/**
 * The same case open in two tabs (or windows) is one reading: only the tab the
 * reader used last holds the case, the others report themselves hidden until
 * the reader turns back to them. The tabs of one browser talk over a
 * BroadcastChannel (localStorage's storage event where there is none).
 */
export interface ClaimMessage {
  type: "claim" | "release";
  studyId: string;
  viewId: string;
}

export interface TabBus {
  post(message: ClaimMessage): void;
  subscribe(listener: (message: ClaimMessage) => void): () => void;
}

const CHANNEL = "boneread.readingTimer";
const STORAGE_KEY = "boneread.readingTimer.claim";

function isClaimMessage(value: unknown): value is ClaimMessage {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    (v.type === "claim" || v.type === "release") &&
    typeof v.studyId === "string" &&
    typeof v.viewId === "string"
  );
}

/** The browser's bus between tabs of this origin; null when neither channel exists. */
export function browserTabBus(): TabBus | null {
  if (typeof BroadcastChannel === "function") {
    const channel = new BroadcastChannel(CHANNEL);
    return {
      post: (message) => channel.postMessage(message),
      subscribe: (listener) => {
        const handler = (event: MessageEvent<unknown>) => {
          if (isClaimMessage(event.data)) listener(event.data);
        };
        channel.addEventListener("message", handler);
        return () => channel.removeEventListener("message", handler);
      },
    };
  }
  try {
    const storage = window.localStorage;
    return {
      // The storage event fires in the other tabs only; a nonce makes each write a change.
      post: (message) =>
        storage.setItem(
          STORAGE_KEY,
          JSON.stringify({ ...message, nonce: Math.random() }),
        ),
      subscribe: (listener) => {
        const handler = (event: StorageEvent) => {
          if (event.key !== STORAGE_KEY || !event.newValue) return;
          try {
            const parsed: unknown = JSON.parse(event.newValue);
            if (isClaimMessage(parsed)) listener(parsed);
          } catch {
            // Not ours.
          }
        };
        window.addEventListener("storage", handler);
        return () => window.removeEventListener("storage", handler);
      },
    };
  } catch {
    return null;
  }
}

/** This tab's hold on one case. */
export class CaseClaim {
  private held = false;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly studyId: string,
    private readonly viewId: string,
    private readonly bus: TabBus | null,
    private readonly handlers: { onLost: () => void; onFreed: () => void },
  ) {}

  get holds(): boolean {
    return this.held;
  }

  start(): void {
    if (!this.bus || this.unsubscribe) return;
    this.unsubscribe = this.bus.subscribe((message) => {
      if (message.studyId !== this.studyId || message.viewId === this.viewId) return;
      if (message.type === "claim" && this.held) {
        this.held = false;
        this.handlers.onLost();
      } else if (message.type === "release") {
        this.handlers.onFreed();
      }
    });
  }

  /** Takes the case from any other tab. */
  claim(): void {
    if (this.held) return;
    this.held = true;
    this.bus?.post({ type: "claim", studyId: this.studyId, viewId: this.viewId });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.held) {
      this.held = false;
      this.bus?.post({ type: "release", studyId: this.studyId, viewId: this.viewId });
    }
  }
}
