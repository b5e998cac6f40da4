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

export function subscribeLocation(listener: Listener): () => void {
  if (listeners.size === 0) window.addEventListener("popstate", notify);
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) window.removeEventListener("popstate", notify);
  };
}

export function getLocation(): AppLocation {
  return current;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const here = window.location.pathname + window.location.search;
  if (to === here) return;
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  notify();
}
