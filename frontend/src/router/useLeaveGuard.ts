import { useEffect, useRef, useSyncExternalStore } from "react";
import {
  addLeaveGuard,
  pendingLeave,
  subscribePendingLeave,
  type PendingLeave,
} from "./leaveGuard";

/** While `dirty` is true, leaving the screen asks first (in-app dialog, or beforeunload). */
export function useLeaveGuard(dirty: boolean): void {
  const latest = useRef(dirty);
  latest.current = dirty;
  useEffect(() => addLeaveGuard(() => latest.current), []);
}

/** The navigation waiting for the user's answer, if any. */
export function usePendingLeave(): PendingLeave | null {
  return useSyncExternalStore(subscribePendingLeave, pendingLeave, pendingLeave);
}
