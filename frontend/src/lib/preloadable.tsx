import { lazy, useState, type ComponentType } from "react";

/**
 * A code-split component that can be fetched ahead of use and then renders without suspending.
 *
 * `React.lazy` alone suspends on its first render even when the chunk is already in memory (its
 * factory runs only then), and React 19 holds a Suspense reveal back for up to 300 ms
 * (FALLBACK_THROTTLE_MS): opening a case from the worklist waited 0.3 s with an idle CPU before
 * the viewer even asked for the study. Once `preload()` has resolved, the component renders the
 * module's component directly. Which of the two a mount uses is fixed for that mount, so a
 * mounted page is never swapped (and its state lost) when the chunk arrives.
 */
export function preloadable<P extends object>(load: () => Promise<ComponentType<P>>) {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<ComponentType<P>> | null = null;

  const preload = (): Promise<ComponentType<P>> => {
    pending ??= load().then(
      (component) => (loaded = component),
      (error: unknown) => {
        pending = null; // a failed download is tried again on the next preload or render
        throw error;
      },
    );
    return pending;
  };
  const Lazy = lazy(() => preload().then((component) => ({ default: component })));

  function Preloadable(props: P) {
    const [Component] = useState<ComponentType<P>>(() => loaded ?? Lazy);
    return <Component {...props} />;
  }

  return { Component: Preloadable, preload, isLoaded: () => loaded !== null };
}
