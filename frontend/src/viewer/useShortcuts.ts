import { useEffect, useRef } from "react";
import { actionForKey, type ViewerAction } from "./shortcuts";

/** Calls `onAction` for viewer shortcuts while the screen is mounted; the listener goes with it. */
export function useShortcuts(onAction: (action: ViewerAction) => void): void {
  const latest = useRef(onAction);
  latest.current = onAction;

  useEffect(() => {
    const handler = (event: KeyboardEvent) => {
      const target = event.target instanceof HTMLElement ? event.target : null;
      const action = actionForKey({
        key: event.key,
        ctrlKey: event.ctrlKey,
        metaKey: event.metaKey,
        altKey: event.altKey,
        targetTag: target?.tagName,
        targetEditable: target?.isContentEditable,
        targetType: target instanceof HTMLInputElement ? target.type : undefined,
      });
      if (action === null) return;
      event.preventDefault();
      // A focused checkbox or slider would also take the key (arrows, space): the shortcut wins.
      latest.current(action);
    };
    window.addEventListener("keydown", handler);
    return () => window.removeEventListener("keydown", handler);
  }, []);
}
