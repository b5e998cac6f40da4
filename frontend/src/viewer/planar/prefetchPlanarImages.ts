import { imageLoader } from "@cornerstonejs/core";
import type { StudyDetail } from "../../api/studies";
import { initCornerstone } from "../../lib/cornerstone/init";
import { planarViews } from "./planarViews";

/**
 * Starts fetching and decoding a planar study's images as soon as the study's
 * description has arrived, before the screen has drawn and built its viewports
 * (React's render and the WebGL set-up took about 0.2 s, during which the
 * network and the decode worker sat idle). The viewports' setStack then takes
 * the images from Cornerstone's cache, whether still in flight or done.
 * Returns the study, to sit in the promise chain that fetched it.
 */
export function prefetchPlanarImages(study: StudyDetail): StudyDetail {
  if (study.kind !== "planar") return study;
  const views = planarViews(study);
  const imageIds = [views.anterior, views.posterior].filter(
    (id): id is string => id !== null,
  );
  if (imageIds.length === 0) return study;
  initCornerstone()
    .then(() => {
      for (const imageId of imageIds) {
        // A failed load is dropped from the cache; the viewer then loads the image itself
        // and shows the failure in the user's language.
        imageLoader.loadAndCacheImage(imageId).catch(() => undefined);
      }
    })
    .catch(() => undefined);
  return study;
}
