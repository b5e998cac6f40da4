import { requestLeave } from "./leaveGuard";

/** A tiny History-API router store: the current location plus navigate(). */
export interface AppLocation {
  pathname: string;
  search: string;
}

type Listener = () => void;
const listeners = new Set<Listener>();
let current: AppLocation = readLocation();

function readLocation(): AppLocation {
  return { pathname: window.location.pathname, search: window.location.search };
}

function notify(): void {
  current = readLocation();
  for (const listener of listeners) listener();
}

function onPopState(): void {
  const target = readLocation();
  const to = target.pathname + target.search;
  const here = current.pathname + current.search;
  if (to === here) return;
  // Back/forward with unsaved work: stay where we are until the user has answered.
  const allowed = requestLeave(to, () => {
    window.history.pushState(null, "", to);
    notify();
  });
  if (allowed) notify();
  else window.history.pushState(null, "", here);
}

export function subscribeLocation(listener: Listener): () => void {
  if (listeners.size === 0) window.addEventListener("popstate", onPopState);
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) window.removeEventListener("popstate", onPopState);
  };
}

export function getLocation(): AppLocation {
  return current;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const here = window.location.pathname + window.location.search;
  if (to === here) return;
  if (!requestLeave(to, () => navigate(to, options))) return;
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  notify();
}
