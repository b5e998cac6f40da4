import type { InstanceInfo } from "../api/studies";

/**
 * Relative WADO URLs made absolute, so that an image id is the same
 * whichever page or prefetch created it.
 */
export function absoluteWadoUrl(instance: Pick<InstanceInfo, "wado_uri">): string {
  return typeof window !== "undefined" && instance.wado_uri.startsWith("/")
    ? `${window.location.origin}${instance.wado_uri}`
    : instance.wado_uri;
}

/** The Cornerstone image id for one instance (and, for multi-frame objects, one 1-based frame). */
export function wadoImageId(
  instance: Pick<InstanceInfo, "wado_uri">,
  frame?: number,
): string {
  const base = absoluteWadoUrl(instance);
  const url =
    frame === undefined ? base : `${base}${base.includes("?") ? "&" : "?"}frame=${frame}`;
  return `wadouri:${url}`;
}
