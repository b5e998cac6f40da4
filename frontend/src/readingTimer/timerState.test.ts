import { describe, expect, it } from "vitest";
import type { ReadingEventType } from "../api/readingEvents";
import {
  INITIAL_STATE,
  transition,
  type TimerInput,
  type TimerState,
} from "./timerState";

function run(inputs: TimerInput[], from: TimerState = INITIAL_STATE) {
  let state = from;
  const events: ReadingEventType[] = [];
  for (const input of inputs) {
    const t = transition(state, input);
    state = t.state;
    events.push(...t.events);
  }
  return { state, events };
}

describe("reading timer state machine", () => {
  it("opens visible, goes idle, comes back active, closes", () => {
    const { events, state } = run([
      { type: "open", visible: true },
      { type: "idleTimeout" },
      { type: "activity" },
      { type: "close" },
    ]);
    expect(events).toEqual(["opened", "idle", "active", "closed"]);
    expect(state.phase).toBe("ended");
  });

  it("opened in a background tab starts hidden", () => {
    expect(run([{ type: "open", visible: false }]).events).toEqual(["opened", "hidden"]);
  });

  it("records hidden and visible once per change", () => {
    const { events } = run([
      { type: "open", visible: true },
      { type: "visibility", visible: false },
      { type: "visibility", visible: false },
      { type: "visibility", visible: true },
      { type: "visibility", visible: true },
    ]);
    expect(events).toEqual(["opened", "hidden", "visible"]);
  });

  it("does not go idle or active while hidden", () => {
    const { events } = run([
      { type: "open", visible: true },
      { type: "visibility", visible: false },
      { type: "idleTimeout" },
      { type: "activity" },
    ]);
    expect(events).toEqual(["opened", "hidden"]);
  });

  it("becoming visible again clears idle without a separate active event", () => {
    const { events, state } = run([
      { type: "open", visible: true },
      { type: "idleTimeout" },
      { type: "visibility", visible: false },
      { type: "visibility", visible: true },
      { type: "activity" },
    ]);
    expect(events).toEqual(["opened", "idle", "hidden", "visible"]);
    expect(state.idle).toBe(false);
  });

  it("ignores repeated idle and activity", () => {
    const { events } = run([
      { type: "open", visible: true },
      { type: "activity" },
      { type: "idleTimeout" },
      { type: "idleTimeout" },
      { type: "activity" },
      { type: "activity" },
    ]);
    expect(events).toEqual(["opened", "idle", "active"]);
  });

  it("emits nothing before open or after submit", () => {
    expect(run([{ type: "activity" }, { type: "close" }]).events).toEqual([]);
    const { events } = run([
      { type: "open", visible: true },
      { type: "submit" },
      { type: "close" },
      { type: "visibility", visible: false },
    ]);
    expect(events).toEqual(["opened", "submitted"]);
  });
});
