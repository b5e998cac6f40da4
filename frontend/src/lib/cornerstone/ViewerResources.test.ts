import { afterEach, describe, expect, it, vi } from "vitest";

vi.mock("@cornerstonejs/core", () => ({
  Enums: {
    Events: { IMAGE_RENDERED: "CORNERSTONE_IMAGE_RENDERED" },
    ViewportStatus: { NO_DATA: "noData", LOADING: "loading" },
  },
  RenderingEngine: class {},
  getRenderingEngine: () => undefined,
}));
vi.mock("@cornerstonejs/tools", () => ({
  SynchronizerManager: {},
  ToolGroupManager: {},
}));

const { ViewerResources } = await import("./ViewerResources");

function frame(element: HTMLElement, viewportStatus: string): void {
  element.dispatchEvent(
    new CustomEvent("CORNERSTONE_IMAGE_RENDERED", { detail: { viewportStatus } }),
  );
}

function sized(width: number, height: number): HTMLDivElement {
  const element = document.createElement("div");
  Object.defineProperty(element, "clientWidth", { value: width, configurable: true });
  Object.defineProperty(element, "clientHeight", { value: height, configurable: true });
  return element;
}

describe("ViewerResources.afterNextRender", () => {
  it("waits for a frame with an image, not an empty viewport's frame", () => {
    const resources = new ViewerResources("t");
    const element = document.createElement("div");
    const callback = vi.fn();
    resources.afterNextRender(element, callback);
    frame(element, "noData"); // the empty viewport's first resize
    frame(element, "loading"); // the image requested, not in yet
    expect(callback).not.toHaveBeenCalled();
    frame(element, "preRender");
    frame(element, "rendered");
    expect(callback).toHaveBeenCalledTimes(1);
  });
});

describe("ViewerResources.watchResize", () => {
  let report: ((entries: { target: Element }[]) => void) | null = null;
  afterEach(() => {
    report = null;
    vi.unstubAllGlobals();
  });

  it("resizes on a real change of size, not on the observer's first report", () => {
    vi.stubGlobal(
      "ResizeObserver",
      class {
        constructor(callback: (entries: { target: Element }[]) => void) {
          report = callback;
        }
        observe() {}
        disconnect() {}
      },
    );
    vi.stubGlobal("requestAnimationFrame", (run: () => void) => {
      run();
      return 1;
    });
    vi.stubGlobal("cancelAnimationFrame", () => undefined);
    const resources = new ViewerResources("t");
    const element = sized(400, 800);
    const resize = vi.fn();
    resources.watchResize([element], resize);

    report?.([{ target: element }]); // the size the viewports were made at
    expect(resize).not.toHaveBeenCalled();

    Object.defineProperty(element, "clientWidth", { value: 300, configurable: true });
    report?.([{ target: element }]);
    expect(resize).toHaveBeenCalledTimes(1);

    report?.([{ target: element }]); // reported again, same size
    expect(resize).toHaveBeenCalledTimes(1);
    resources.destroy();
  });
});
