import type { MessageKey } from "../i18n/messages";
import type { PresetId } from "./planar/windowPresets";

export type ViewerAction =
  | { type: "nextCase" }
  | { type: "prevCase" }
  | { type: "reset" }
  | { type: "invert" }
  | { type: "preset"; preset: PresetId }
  | { type: "tool"; tool: "window" | "pan" | "zoom" | "crosshairs" }
  | { type: "cycleFusion" }
  | { type: "toggleOverlay" }
  | { type: "toggleHelp" }
  | { type: "closeHelp" }
  | { type: "backToList" };

export interface Shortcut {
  keys: string[];
  label: MessageKey;
  action: ViewerAction;
}

/** One table drives both the key handling and the help panel, so they never disagree. */
export const SHORTCUTS: readonly Shortcut[] = [
  { keys: ["n", "PageDown"], label: "shortcuts.nextCase", action: { type: "nextCase" } },
  { keys: ["p", "PageUp"], label: "shortcuts.prevCase", action: { type: "prevCase" } },
  { keys: ["r"], label: "shortcuts.reset", action: { type: "reset" } },
  { keys: ["i"], label: "shortcuts.invert", action: { type: "invert" } },
  { keys: ["1"], label: "shortcuts.presets", action: { type: "preset", preset: "auto" } },
  { keys: ["2"], label: "shortcuts.presets", action: { type: "preset", preset: "low" } },
  {
    keys: ["3"],
    label: "shortcuts.presets",
    action: { type: "preset", preset: "medium" },
  },
  { keys: ["4"], label: "shortcuts.presets", action: { type: "preset", preset: "high" } },
  {
    keys: ["w"],
    label: "shortcuts.toolWindow",
    action: { type: "tool", tool: "window" },
  },
  { keys: ["m"], label: "shortcuts.toolPan", action: { type: "tool", tool: "pan" } },
  { keys: ["z"], label: "shortcuts.toolZoom", action: { type: "tool", tool: "zoom" } },
  {
    keys: ["c"],
    label: "shortcuts.toolCrosshairs",
    action: { type: "tool", tool: "crosshairs" },
  },
  { keys: ["f"], label: "shortcuts.fusion", action: { type: "cycleFusion" } },
  { keys: ["o"], label: "shortcuts.overlay", action: { type: "toggleOverlay" } },
  { keys: ["?", "h"], label: "shortcuts.help", action: { type: "toggleHelp" } },
  { keys: ["l"], label: "shortcuts.back", action: { type: "backToList" } },
];

export interface KeyInput {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  /** The focused element's tag name, e.g. "INPUT". */
  targetTag?: string | undefined;
  targetEditable?: boolean | undefined;
  /** The focused input's type ("text", "checkbox", "range", ...), when it is an INPUT. */
  targetType?: string | undefined;
}

const TYPING_TAGS = new Set(["TEXTAREA", "SELECT"]);
/** Inputs that take no typed characters: a shortcut pressed after clicking one still works. */
const NON_TEXT_INPUTS = new Set([
  "checkbox",
  "radio",
  "range",
  "button",
  "submit",
  "reset",
  "color",
  "file",
  "image",
]);

function isTyping(input: KeyInput): boolean {
  if (input.targetEditable) return true;
  const tag = input.targetTag?.toUpperCase();
  if (tag === undefined) return false;
  if (TYPING_TAGS.has(tag)) return true;
  return (
    tag === "INPUT" && !NON_TEXT_INPUTS.has((input.targetType ?? "text").toLowerCase())
  );
}

/** The viewer action for a key press, or null; never while the user is typing. */
export function actionForKey(input: KeyInput): ViewerAction | null {
  if (input.ctrlKey || input.metaKey || input.altKey) return null;
  if (isTyping(input)) return null;
  if (input.key === "Escape") return { type: "closeHelp" };
  const key = input.key.length === 1 ? input.key.toLowerCase() : input.key;
  const match = SHORTCUTS.find((s) => s.keys.includes(key));
  return match ? match.action : null;
}
