import type { ReadingEventType } from "../api/readingEvents";

/**
 * The reading timer's state machine. Active reading time, which the server
 * computes from the events, is time that is visible and not idle.
 *
 * `visible` is what the server sees: the page is visible AND this tab holds
 * the case (the same case open in two tabs is one reading: only the tab the
 * reader last used counts, the other reports itself hidden).
 */
export interface TimerState {
  phase: "new" | "open" | "ended";
  visible: boolean;
  idle: boolean;
  /** The viewer drew its first image (the reading clock's start). */
  imageShown: boolean;
}

export type TimerInput =
  | { type: "open"; visible: boolean }
  | { type: "visibility"; visible: boolean }
  | { type: "activity" }
  | { type: "idleTimeout" }
  | { type: "firstImage" }
  | { type: "heartbeat" }
  | { type: "submit" }
  | { type: "close" };

export const INITIAL_STATE: TimerState = {
  phase: "new",
  visible: true,
  idle: false,
  imageShown: false,
};

export interface Transition {
  state: TimerState;
  events: ReadingEventType[];
}

export function transition(state: TimerState, input: TimerInput): Transition {
  if (state.phase === "ended") return { state, events: [] };

  if (state.phase === "new") {
    if (input.type !== "open") return { state, events: [] };
    const next: TimerState = { ...INITIAL_STATE, phase: "open", visible: input.visible };
    return { state: next, events: input.visible ? ["opened"] : ["opened", "hidden"] };
  }

  switch (input.type) {
    case "open":
      return { state, events: [] };
    case "visibility":
      if (input.visible === state.visible) return { state, events: [] };
      // Coming back counts as activity: the reader is looking again.
      return {
        state: { ...state, visible: input.visible, idle: false },
        events: [input.visible ? "visible" : "hidden"],
      };
    case "activity":
      if (!state.visible || !state.idle) return { state, events: [] };
      return { state: { ...state, idle: false }, events: ["active"] };
    case "idleTimeout":
      if (!state.visible || state.idle) return { state, events: [] };
      return { state: { ...state, idle: true }, events: ["idle"] };
    case "firstImage":
      if (state.imageShown) return { state, events: [] };
      return { state: { ...state, imageShown: true }, events: ["first_image"] };
    case "heartbeat":
      // Sent whatever the state: it bounds what a lost end (browser quit, crash) can cost.
      return { state, events: ["heartbeat"] };
    case "submit":
      return { state: { ...state, phase: "ended" }, events: ["submitted"] };
    case "close":
      return { state: { ...state, phase: "ended" }, events: ["closed"] };
  }
}
