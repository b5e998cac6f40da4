import type { ReadingEventPayload } from "../api/readingEvents";
import { browserTabBus, CaseClaim, type TabBus } from "./caseClaim";
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
export const DEFAULT_HEARTBEAT_MS = 15_000;
const RETRY_MS = 15_000;
const ACTIVITY_EVENTS = ["pointermove", "pointerdown", "keydown", "wheel"] as const;
/** The viewer's performance marks (also read by the viewer benchmark). */
const FIRST_IMAGE_MARK = /^boneread:.*first-image$/;

export interface ReadingTimerOptions {
  studyId: string;
  /** The reader-study reading (the server takes session and arm from it). */
  readingId?: string | null;
  /** Whether AI output is on screen in this case view. */
  aiShown?: boolean | null;
  outbox: Outbox;
  idleMs?: number;
  heartbeatMs?: number;
  /** Start the reading clock at the viewer's first-image performance mark. */
  watchFirstImage?: boolean;
  /** Tabs of this browser, to count a case open in two tabs once; null: no coordination. */
  tabBus?: TabBus | null;
  now?: () => Date;
  makeId?: () => string;
  doc?: Document;
  win?: Window;
}

/**
 * Times one case view: turns page visibility, user activity, the first image,
 * submission and leaving into reading events and hands them to the outbox.
 * start() attaches its listeners, stop() removes them all and records the close.
 *
 * What it does so that the time can be defended:
 * - the idle event is placed at the last input, not at the end of the idle threshold;
 * - a heartbeat every `heartbeatMs` carries the last input, so a lost end (browser
 *   quit, crash) costs at most one interval;
 * - `first_image` marks the start of reading (images loaded), `opened` the page;
 * - only the tab the reader uses holds the case; another tab with the same case
 *   reports itself hidden.
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
  private readonly claim: CaseClaim;
  private retry: ReturnType<typeof setInterval> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private observer: PerformanceObserver | null = null;
  private listening = false;
  private lastInput: Date;

  constructor(private readonly options: ReadingTimerOptions) {
    this.now = options.now ?? (() => new Date());
    this.makeId = options.makeId ?? newId;
    this.doc = options.doc ?? document;
    this.win = options.win ?? window;
    this.viewId = this.makeId();
    this.lastInput = this.now();
    this.idle = new IdleTimer(options.idleMs ?? DEFAULT_IDLE_MS, () =>
      this.dispatch({ type: "idleTimeout" }, this.lastInput),
    );
    this.claim = new CaseClaim(
      options.studyId,
      this.viewId,
      options.tabBus === undefined ? browserTabBus() : options.tabBus,
      {
        onLost: () => this.refreshVisibility(),
        onFreed: () => {
          // The other tab closed: this one takes over if the reader can see it.
          if (this.isPageVisible()) this.takeCase();
        },
      },
    );
  }

  get current(): TimerState {
    return this.state;
  }

  get lastInputAt(): Date {
    return this.lastInput;
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
    this.heartbeat = setInterval(
      () => this.dispatch({ type: "heartbeat" }),
      this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
    );
    this.watchFirstImage();
    this.claim.start();
    const visible = this.isPageVisible();
    if (visible) this.claim.claim();
    this.lastInput = this.now();
    this.dispatch({ type: "open", visible });
    this.idle.poke();
    // Events left over from an earlier, offline session go out now, once.
    void this.options.outbox.flush();
  }

  /** The viewer drew the case's first image: the reading clock starts here. */
  firstImage(): void {
    this.dispatch({ type: "firstImage" });
  }

  /**
   * The reader submitted the answer (reader studies) or signed the report
   * (clinical); `at` is when they pressed the button, if the server's answer came later.
   */
  submit(at?: Date): void {
    this.dispatch({ type: "submit" }, at);
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
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.retry = null;
    this.heartbeat = null;
    this.observer?.disconnect();
    this.observer = null;
    this.claim.stop();
  }

  private watchFirstImage(): void {
    if (!this.options.watchFirstImage || typeof PerformanceObserver !== "function")
      return;
    try {
      this.observer = new PerformanceObserver((list) => {
        if (list.getEntries().some((entry) => FIRST_IMAGE_MARK.test(entry.name))) {
          this.firstImage();
        }
      });
      this.observer.observe({ type: "mark" });
    } catch {
      this.observer = null;
    }
  }

  private isPageVisible(): boolean {
    return this.doc.visibilityState !== "hidden";
  }

  /** Visible to the server: the page is visible and this tab holds the case. */
  private refreshVisibility(): void {
    const visible = this.isPageVisible() && this.claim.holds;
    if (visible === this.state.visible) return;
    this.dispatch({ type: "visibility", visible });
    if (visible) {
      this.lastInput = this.now();
      this.idle.poke();
    } else {
      this.idle.stop();
    }
  }

  private takeCase(): void {
    this.claim.claim();
    this.refreshVisibility();
  }

  private readonly onVisibility = () => {
    if (this.isPageVisible()) this.takeCase();
    else this.refreshVisibility();
  };

  private readonly onActivity = () => {
    if (this.state.phase !== "open" || !this.isPageVisible()) return;
    if (!this.claim.holds) this.takeCase();
    this.lastInput = this.now();
    this.dispatch({ type: "activity" });
    this.idle.poke();
  };

  private readonly onOnline = () => void this.options.outbox.flush();

  private readonly onPageHide = () => {
    // A flush in flight (a heartbeat's) would hold the close back until after the page is gone.
    const busy = this.options.outbox.busy;
    this.stop();
    if (busy) this.options.outbox.sendNow();
  };

  private dispatch(input: TimerInput, at?: Date): void {
    const { state, events } = transition(this.state, input);
    this.state = state;
    if (events.length === 0) return;
    const time = (at ?? this.now()).toISOString();
    for (const type of events) {
      const event: ReadingEventPayload = {
        id: this.makeId(),
        view_id: this.viewId,
        study_id: this.options.studyId,
        type,
        client_time: time,
        sequence: this.sequence++,
      };
      if (type === "heartbeat" || type === "idle") {
        event.last_input_at = this.lastInput.toISOString();
      }
      if (this.options.readingId) event.reading_id = this.options.readingId;
      if (typeof this.options.aiShown === "boolean")
        event.ai_shown = this.options.aiShown;
      this.options.outbox.enqueue(event);
    }
    void this.options.outbox.flush();
  }
}
