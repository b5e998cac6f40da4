import type { ReadingEventPayload } from "../api/readingEvents";
import { IdleTimer } from "./idleTimer";
import { newId } from "./newId";
import type { Outbox } from "./outbox";
import {
  INITIAL_STATE,
  transition,
  type TimerInput,
  type TimerState,
} from "./timerState";

export const DEFAULT_IDLE_MS = 60_000;
const RETRY_MS = 15_000;
const ACTIVITY_EVENTS = ["pointermove", "pointerdown", "keydown", "wheel"] as const;

export interface ReadingTimerOptions {
  studyId: string;
  sessionId?: string | null;
  outbox: Outbox;
  idleMs?: number;
  now?: () => Date;
  makeId?: () => string;
  doc?: Document;
  win?: Window;
}

/**
 * Times one case view: turns page visibility, user activity, submission and
 * leaving into reading events and hands them to the outbox. start() attaches
 * its listeners, stop() removes them all and records the close.
 */
export class ReadingTimer {
  readonly viewId: string;
  private state: TimerState = INITIAL_STATE;
  private sequence = 0;
  private readonly idle: IdleTimer;
  private readonly now: () => Date;
  private readonly makeId: () => string;
  private readonly doc: Document;
  private readonly win: Window;
  private retry: ReturnType<typeof setInterval> | null = null;
  private listening = false;

  constructor(private readonly options: ReadingTimerOptions) {
    this.now = options.now ?? (() => new Date());
    this.makeId = options.makeId ?? newId;
    this.doc = options.doc ?? document;
    this.win = options.win ?? window;
    this.viewId = this.makeId();
    this.idle = new IdleTimer(options.idleMs ?? DEFAULT_IDLE_MS, () =>
      this.dispatch({ type: "idleTimeout" }),
    );
  }

  get current(): TimerState {
    return this.state;
  }

  start(): void {
    if (this.listening || this.state.phase !== "new") return;
    this.listening = true;
    this.doc.addEventListener("visibilitychange", this.onVisibility);
    for (const type of ACTIVITY_EVENTS) {
      this.doc.addEventListener(type, this.onActivity, { passive: true });
    }
    this.win.addEventListener("online", this.onOnline);
    this.win.addEventListener("pagehide", this.onPageHide);
    this.retry = setInterval(() => void this.options.outbox.flush(), RETRY_MS);
    this.dispatch({ type: "open", visible: this.isVisible() });
    this.idle.poke();
    // Events left over from an earlier, offline session go out now, once.
    void this.options.outbox.flush();
  }

  /** The reader submitted this case (reader studies). */
  submit(): void {
    this.dispatch({ type: "submit" });
    this.detach();
  }

  /** Leaving the case view: records the close and removes every listener. */
  stop(): void {
    this.dispatch({ type: "close" });
    this.detach();
  }

  private detach(): void {
    if (!this.listening) return;
    this.listening = false;
    this.idle.stop();
    this.doc.removeEventListener("visibilitychange", this.onVisibility);
    for (const type of ACTIVITY_EVENTS)
      this.doc.removeEventListener(type, this.onActivity);
    this.win.removeEventListener("online", this.onOnline);
    this.win.removeEventListener("pagehide", this.onPageHide);
    if (this.retry !== null) clearInterval(this.retry);
    this.retry = null;
  }

  private isVisible(): boolean {
    return this.doc.visibilityState !== "hidden";
  }

  private readonly onVisibility = () => {
    const visible = this.isVisible();
    this.dispatch({ type: "visibility", visible });
    if (visible) this.idle.poke();
    else this.idle.stop();
  };

  private readonly onActivity = () => {
    if (this.state.phase !== "open" || !this.state.visible) return;
    this.dispatch({ type: "activity" });
    this.idle.poke();
  };

  private readonly onOnline = () => void this.options.outbox.flush();

  private readonly onPageHide = () => this.stop();

  private dispatch(input: TimerInput): void {
    const { state, events } = transition(this.state, input);
    this.state = state;
    if (events.length === 0) return;
    for (const type of events) {
      const event: ReadingEventPayload = {
        id: this.makeId(),
        view_id: this.viewId,
        study_id: this.options.studyId,
        type,
        client_time: this.now().toISOString(),
        sequence: this.sequence++,
      };
      if (this.options.sessionId) event.session_id = this.options.sessionId;
      this.options.outbox.enqueue(event);
    }
    void this.options.outbox.flush();
  }
}
