import { useEffect, useRef, useState, type DependencyList } from "react";

export type LoadState = "loading" | "ready" | "error";

interface Controller {
  readonly isDestroyed: boolean;
  destroy(): void;
}

/**
 * One imaging controller per case (planar or SPECT/CT): created and mounted
 * when `deps` change, destroyed when they change again or the screen is left;
 * the load state and a failure's message for the screen. A controller
 * destroyed while mounting resolves false and changes nothing.
 */
export function useViewerController<C extends Controller>(
  create: () => C | null,
  mount: (controller: C) => Promise<boolean>,
  deps: DependencyList,
) {
  const controllerRef = useRef<C | null>(null);
  const [load, setLoad] = useState<LoadState>("loading");
  const [loadError, setLoadError] = useState("");

  useEffect(() => {
    const controller = create();
    if (!controller) return;
    controllerRef.current = controller;
    setLoad("loading");
    mount(controller)
      .then((ok) => {
        if (ok) setLoad("ready");
      })
      .catch((error: unknown) => {
        if (controller.isDestroyed) return;
        setLoadError(error instanceof Error ? error.message : String(error));
        setLoad("error");
      });
    return () => {
      controller.destroy();
      if (controllerRef.current === controller) controllerRef.current = null;
    };
    // The caller names what a new controller depends on.
  }, deps);

  return { controllerRef, load, loadError };
}
