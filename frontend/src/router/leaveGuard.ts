/**
 * Leave guards: a screen with unsaved work (the report draft) registers one; in-app navigation
 * (links, next/previous case, shortcuts, the browser's back button) then waits for the user's
 * answer in an in-app dialog, and reload / close get the browser's own beforeunload prompt.
 */
type Listener = () => void;

export interface PendingLeave {
  /** Where the user wanted to go. */
  to: string;
  proceed: () => void;
  stay: () => void;
}

const guards = new Set<() => boolean>();
const listeners = new Set<Listener>();
let pending: PendingLeave | null = null;
/** True while a navigation the user confirmed runs: the guards do not ask again. */
let leaving = false;

function notify(): void {
  for (const listener of listeners) listener();
}

function beforeUnload(event: BeforeUnloadEvent): void {
  if (!hasUnsavedWork()) return;
  event.preventDefault();
  // Older Chromium shows the prompt only when returnValue is set.
  event.returnValue = "";
}

/** Registers `isDirty`; returns the unregister function. */
export function addLeaveGuard(isDirty: () => boolean): () => void {
  if (guards.size === 0) window.addEventListener("beforeunload", beforeUnload);
  guards.add(isDirty);
  return () => {
    guards.delete(isDirty);
    if (guards.size === 0) {
      window.removeEventListener("beforeunload", beforeUnload);
      if (pending) {
        pending = null;
        notify();
      }
    }
  };
}

export function hasUnsavedWork(): boolean {
  if (leaving) return false;
  for (const isDirty of guards) if (isDirty()) return true;
  return false;
}

/**
 * Called by the router before it navigates. Returns true when the navigation may go on now;
 * otherwise the question is shown and `go` runs only if the user chooses to leave.
 */
export function requestLeave(to: string, go: () => void): boolean {
  if (!hasUnsavedWork()) return true;
  pending = {
    to,
    proceed: () => {
      pending = null;
      notify();
      leaving = true;
      try {
        go();
      } finally {
        leaving = false;
      }
    },
    stay: () => {
      pending = null;
      notify();
    },
  };
  notify();
  return false;
}

export function pendingLeave(): PendingLeave | null {
  return pending;
}

export function subscribePendingLeave(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
