import { prefetchPart10Instance } from "@cornerstonejs/dicom-image-loader";
import { fetchMultipartDicom } from "../../api/multipartDicom";
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

/**
 * Like prefetchInstances, for the files of one series fetched in a single
 * WADO-RS request (`seriesUrl`): each part is filed under its WADO-URI URL (by
 * the SOP instance UID its Content-Location names) as soon as it arrives. One
 * request instead of one per slice: for a 128-slice CT the server answered 128
 * requests (session, access checks, audit) before the first fused view. Files
 * the answer did not carry (a failed request, a server without
 * Content-Location) are fetched one by one.
 */
export async function prefetchSeries(
  seriesUrl: string,
  files: { url: string; sopInstanceUid: string }[],
  options: { signal?: AbortSignal; onProgress?: (done: number) => void } = {},
): Promise<void> {
  const urlOf = new Map(files.map((f) => [f.sopInstanceUid, f.url]));
  const missing = new Set(files.map((f) => f.url).filter((url) => !prefetched.has(url)));
  let done = 0;
  const progress = () => {
    done += 1;
    options.onProgress?.(done);
  };
  const known = files.filter((f) => !missing.has(f.url)).map((f) => f.url);
  const added: Promise<void>[] = known.map((url) =>
    (prefetched.get(url) ?? Promise.resolve()).then(progress),
  );
  if (missing.size > 0) {
    try {
      await fetchMultipartDicom(
        seriesUrl,
        (part) => {
          const url = part.sopInstanceUid ? urlOf.get(part.sopInstanceUid) : undefined;
          if (url === undefined || !missing.has(url)) return;
          missing.delete(url);
          const pending = prefetchPart10Instance(`wadouri:${url}`, part.bytes).then(
            () => undefined,
          );
          pending.catch(() => prefetched.delete(url));
          prefetched.set(url, pending);
          added.push(pending.then(progress));
        },
        options.signal,
      );
    } catch (error) {
      if (options.signal?.aborted) throw error;
      console.warn("Series retrieve failed; fetching its files one by one", error);
    }
  }
  await Promise.all(added);
  if (missing.size > 0) {
    await prefetchInstances([...missing], {
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: progress,
    });
  }
}
