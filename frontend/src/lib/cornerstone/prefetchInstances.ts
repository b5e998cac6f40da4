import { prefetchPart10Instance } from "@cornerstonejs/dicom-image-loader";
import { fetchDicomFile } from "../../api/wado";

const prefetched = new Map<string, Promise<void>>();

/**
 * Loads whole DICOM files into Cornerstone's metadata cache (base image id
 * "wadouri:<url>"), a few at a time, so that volumes can be built from
 * their frames without fetching any file twice.
 */
export async function prefetchInstances(
  urls: string[],
  options: {
    concurrency?: number;
    signal?: AbortSignal;
    onProgress?: (done: number) => void;
  } = {},
): Promise<void> {
  const queue = [...new Set(urls)];
  let done = 0;
  const worker = async () => {
    for (;;) {
      const url = queue.shift();
      if (url === undefined) return;
      if (options.signal?.aborted) throw new DOMException("Aborted", "AbortError");
      let pending = prefetched.get(url);
      if (!pending) {
        pending = fetchDicomFile(url, options.signal).then((bytes) =>
          prefetchPart10Instance(`wadouri:${url}`, bytes).then(() => undefined),
        );
        pending.catch(() => prefetched.delete(url));
        prefetched.set(url, pending);
      }
      await pending;
      done += 1;
      options.onProgress?.(done);
    }
  };
  const n = Math.max(1, Math.min(options.concurrency ?? 6, queue.length));
  await Promise.all(Array.from({ length: n }, worker));
}

/** Forget prefetched files (the metadata cache is Cornerstone's; this only resets our bookkeeping). */
export function forgetPrefetched(urls: string[]): void {
  for (const url of urls) prefetched.delete(url);
}
