import type { InstanceInfo } from "../api/studies";

/**
 * The Cornerstone image id for one instance (and, for multi-frame objects,
 * one 1-based frame). Relative WADO URLs are made absolute so that the image
 * id is the same whichever page created it.
 */
export function wadoImageId(
  instance: Pick<InstanceInfo, "wado_uri">,
  frame?: number,
): string {
  const base =
    typeof window !== "undefined" && instance.wado_uri.startsWith("/")
      ? `${window.location.origin}${instance.wado_uri}`
      : instance.wado_uri;
  const url =
    frame === undefined ? base : `${base}${base.includes("?") ? "&" : "?"}frame=${frame}`;
  return `wadouri:${url}`;
}
