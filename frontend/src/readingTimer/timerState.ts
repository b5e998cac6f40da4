import type { ReadingEventType } from "../api/readingEvents";

/**
 * The reading timer's state machine. Active reading time, which the server
 * computes from the events, is time that is visible and not idle.
 */
export interface TimerState {
  phase: "new" | "open" | "ended";
  visible: boolean;
  idle: boolean;
}

export type TimerInput =
  | { type: "open"; visible: boolean }
  | { type: "visibility"; visible: boolean }
  | { type: "activity" }
  | { type: "idleTimeout" }
  | { type: "submit" }
  | { type: "close" };

export const INITIAL_STATE: TimerState = { phase: "new", visible: true, idle: false };

export interface Transition {
  state: TimerState;
  events: ReadingEventType[];
}

export function transition(state: TimerState, input: TimerInput): Transition {
  if (state.phase === "ended") return { state, events: [] };

  if (state.phase === "new") {
    if (input.type !== "open") return { state, events: [] };
    const next: TimerState = { phase: "open", visible: input.visible, idle: false };
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
    case "submit":
      return { state: { ...state, phase: "ended" }, events: ["submitted"] };
    case "close":
      return { state: { ...state, phase: "ended" }, events: ["closed"] };
  }
}
