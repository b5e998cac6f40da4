import { act } from "react";
import { createRoot } from "react-dom/client";
import { Suspense } from "react";
import { describe, expect, it } from "vitest";
import { preloadable } from "./preloadable";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

function Hello({ name }: { name: string }) {
  return <p>hello {name}</p>;
}

describe("preloadable", () => {
  it("renders a preloaded component at once, without the Suspense fallback", async () => {
    let loads = 0;
    const page = preloadable(async () => {
      loads += 1;
      return Hello;
    });
    await page.preload();
    await page.preload();
    expect(loads).toBe(1);
    expect(page.isLoaded()).toBe(true);

    const host = document.createElement("div");
    const root = createRoot(host);
    act(() => {
      root.render(
        <Suspense fallback={<p>loading</p>}>
          <page.Component name="wang" />
        </Suspense>,
      );
    });
    // Synchronously after the first commit: no fallback was shown.
    expect(host.textContent).toBe("hello wang");
    act(() => root.unmount());
  });

  it("suspends when rendered before the chunk arrived, then shows it", async () => {
    let resolve: (component: typeof Hello) => void = () => {};
    const page = preloadable(() => new Promise<typeof Hello>((done) => (resolve = done)));
    const host = document.createElement("div");
    const root = createRoot(host);
    act(() => {
      root.render(
        <Suspense fallback={<p>loading</p>}>
          <page.Component name="li" />
        </Suspense>,
      );
    });
    expect(host.textContent).toBe("loading");
    await act(async () => {
      resolve(Hello);
      await new Promise((done) => setTimeout(done, 0));
    });
    expect(host.textContent).toBe("hello li");
    act(() => root.unmount());
  });

  it("tries a failed download again", async () => {
    let attempt = 0;
    const page = preloadable(async () => {
      attempt += 1;
      if (attempt === 1) throw new Error("offline");
      return Hello;
    });
    await expect(page.preload()).rejects.toThrow("offline");
    await expect(page.preload()).resolves.toBe(Hello);
    expect(attempt).toBe(2);
  });
});
