import { ApiError } from "./ApiError";

/**
 * One DICOM Part 10 file from the archive's WADO-URI endpoint, as bytes.
 * Cornerstone fetches planar images itself; volumes are prefetched through
 * this so that their metadata is known before the volume is built.
 */
export async function fetchDicomFile(
  url: string,
  signal?: AbortSignal,
): Promise<ArrayBuffer> {
  const init: RequestInit = {
    credentials: "same-origin",
    // "*/*" too: the archive answers 406 to a bare application/dicom Accept header.
    headers: { Accept: "application/dicom, */*" },
  };
  if (signal) init.signal = signal;
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network");
  }
  if (!response.ok)
    throw new ApiError(response.status, `HTTP ${response.status} for ${url}`);
  return response.arrayBuffer();
}
