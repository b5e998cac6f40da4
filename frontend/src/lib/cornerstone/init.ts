import {
  Enums,
  getConfiguration,
  imageLoadPoolManager,
  init as coreInit,
  isCornerstoneInitialized,
} from "@cornerstonejs/core";
import { init as dicomImageLoaderInit } from "@cornerstonejs/dicom-image-loader";
import { init as toolsInit } from "@cornerstonejs/tools";

let initPromise: Promise<void> | null = null;

async function initOnce(): Promise<void> {
  // Cornerstone makes this many WebGL contexts for every rendering engine, eagerly, and a
  // screen's engine is new with every case: its default of 7 cost about 40 ms per case
  // opened (software WebGL) and held up to 7 live contexts of the browser's 16. Ours need
  // 2: stack viewports take one each (planar: anterior, posterior), volume viewports share
  // the first.
  if (!isCornerstoneInitialized()) {
    const defaults = getConfiguration();
    coreInit({ ...defaults, rendering: { ...defaults.rendering, webGlContextCount: 2 } });
  }
  // The machines that read cases have few cores; two decode workers are plenty
  // for planar scans and keep the UI responsive.
  const cores = typeof navigator !== "undefined" ? navigator.hardwareConcurrency || 2 : 2;
  dicomImageLoaderInit({
    maxWebWorkers: Math.max(1, Math.min(4, Math.floor(cores / 2))),
  });
  // Cornerstone's request pool lets 5 prefetch loads run at once and waits 5 ms before
  // taking the next ones: a 128-slice volume went through the decoders in ~26 such rounds
  // with the worker idle between them. The limits OHIF ships with (its default config).
  imageLoadPoolManager.setMaxSimultaneousRequests(Enums.RequestType.Interaction, 100);
  imageLoadPoolManager.setMaxSimultaneousRequests(Enums.RequestType.Thumbnail, 75);
  imageLoadPoolManager.setMaxSimultaneousRequests(Enums.RequestType.Prefetch, 25);
  toolsInit();
  performance.mark("boneread:cornerstone-ready");
}

/**
 * Initialises Cornerstone core, tools and the DICOM image loader exactly once
 * per page. Safe to call from every screen; concurrent callers share one
 * initialisation, and a failed one can be retried.
 */
export function initCornerstone(): Promise<void> {
  if (initPromise === null) {
    initPromise = initOnce().catch((error: unknown) => {
      initPromise = null;
      throw error;
    });
  }
  return initPromise;
}

export function isCornerstoneReady(): boolean {
  return initPromise !== null && isCornerstoneInitialized();
}
