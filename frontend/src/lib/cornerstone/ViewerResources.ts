import { Enums, RenderingEngine, getRenderingEngine } from "@cornerstonejs/core";
import { SynchronizerManager, ToolGroupManager } from "@cornerstonejs/tools";

type Cleanup = () => void;

/**
 * Owns everything one screen creates in Cornerstone (rendering engine, tool
 * groups, synchronizers, DOM listeners) and destroys it all, newest first,
 * when the screen is left. Ids are unique per instance so a screen that is
 * re-entered quickly (React strict mode, next case) never collides with the
 * one being torn down.
 */
export class ViewerResources {
  readonly prefix: string;
  private cleanups: Cleanup[] = [];
  private destroyed = false;

  constructor(name: string) {
    this.prefix = `${name}-${Math.random().toString(36).slice(2, 10)}`;
  }

  id(part: string): string {
    return `${this.prefix}-${part}`;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  createRenderingEngine(): RenderingEngine {
    const id = this.id("engine");
    const engine = new RenderingEngine(id);
    this.onDestroy(() => {
      if (getRenderingEngine(id)) engine.destroy();
    });
    return engine;
  }

  createToolGroup(part: string) {
    const id = this.id(part);
    const group = ToolGroupManager.createToolGroup(id);
    if (!group) throw new Error(`Tool group ${id} already exists`);
    this.onDestroy(() => ToolGroupManager.destroyToolGroup(id));
    return group;
  }

  toolGroup(id: string) {
    return ToolGroupManager.getToolGroup(id) ?? null;
  }

  /** Registers a synchronizer created elsewhere so it is destroyed with the screen. */
  trackSynchronizer(synchronizerId: string): void {
    this.onDestroy(() => SynchronizerManager.destroySynchronizer(synchronizerId));
  }

  listen<K extends keyof HTMLElementEventMap>(
    target: HTMLElement,
    type: K,
    handler: (event: HTMLElementEventMap[K]) => void,
  ): void {
    target.addEventListener(type, handler);
    this.onDestroy(() => target.removeEventListener(type, handler));
  }

  /** Calls `resize` (once per animation frame) whenever one of `elements` changes size. */
  watchResize(elements: (HTMLElement | null)[], resize: () => void): void {
    if (typeof ResizeObserver === "undefined") return;
    let frame = 0;
    // The observer also reports every element once when it starts watching: that is the
    // size the viewports were just made at, and resizing to it only drew empty frames
    // (a WebGL resize and copy per view, before the images were in).
    const sizes = new Map<Element, string>();
    const sizeOf = (element: Element) => `${element.clientWidth}x${element.clientHeight}`;
    const observer = new ResizeObserver((entries) => {
      const changed = entries.filter((entry) => {
        const size = sizeOf(entry.target);
        const before = sizes.get(entry.target);
        sizes.set(entry.target, size);
        return before !== size;
      });
      if (changed.length === 0) return;
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        if (!this.destroyed) resize();
      });
    });
    for (const element of elements) {
      if (!element) continue;
      sizes.set(element, sizeOf(element));
      observer.observe(element);
    }
    this.onDestroy(() => {
      cancelAnimationFrame(frame);
      observer.disconnect();
    });
  }

  /**
   * Calls back once, after the next frame Cornerstone draws in `element` with an image
   * in it: the frames of an empty viewport (its first resize, an image still loading)
   * do not count.
   */
  afterNextRender(element: HTMLElement | null | undefined, callback: () => void): void {
    if (!element) return;
    let done = false;
    const handler = (event: Event) => {
      const status = (event as CustomEvent<{ viewportStatus?: Enums.ViewportStatus }>)
        .detail?.viewportStatus;
      if (
        status === Enums.ViewportStatus.NO_DATA ||
        status === Enums.ViewportStatus.LOADING
      )
        return;
      if (done) return;
      done = true;
      element.removeEventListener(Enums.Events.IMAGE_RENDERED, handler);
      callback();
    };
    element.addEventListener(Enums.Events.IMAGE_RENDERED, handler);
    this.onDestroy(() =>
      element.removeEventListener(Enums.Events.IMAGE_RENDERED, handler),
    );
  }

  onDestroy(cleanup: Cleanup): void {
    if (this.destroyed) {
      cleanup();
      return;
    }
    this.cleanups.push(cleanup);
  }

  /** Idempotent; one failing cleanup does not stop the others. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const cleanups = this.cleanups.reverse();
    this.cleanups = [];
    for (const cleanup of cleanups) {
      try {
        cleanup();
      } catch (error) {
        console.warn("Viewer cleanup failed", error);
      }
    }
  }
}
