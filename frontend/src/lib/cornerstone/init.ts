import {
  Enums,
  imageLoadPoolManager,
  init as coreInit,
  isCornerstoneInitialized,
} from "@cornerstonejs/core";
import { init as dicomImageLoaderInit } from "@cornerstonejs/dicom-image-loader";
import { init as toolsInit } from "@cornerstonejs/tools";

let initPromise: Promise<void> | null = null;

async function initOnce(): Promise<void> {
  if (!isCornerstoneInitialized()) coreInit();
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
