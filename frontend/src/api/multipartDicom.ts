/**
 * WADO-RS retrieve of a whole series (multipart/related; type="application/dicom"),
 * read as it streams: each part is handed over as soon as it is complete, with the
 * SOP instance UID its Content-Location names.
 */

export interface DicomPart {
  /** From the part's Content-Location (".../instances/<uid>"); null when it names none. */
  sopInstanceUid: string | null;
  bytes: ArrayBuffer;
}

const CRLF_CRLF = new Uint8Array([13, 10, 13, 10]);

/** The boundary of a multipart Content-Type header, or null. */
export function multipartBoundary(contentType: string | null): string | null {
  if (!contentType || !/^\s*multipart\//i.test(contentType)) return null;
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2] ?? null) : null;
}

function indexOf(
  haystack: Uint8Array,
  needle: Uint8Array,
  from: number,
  to: number,
): number {
  const first = needle[0];
  const last = to - needle.length;
  for (let i = Math.max(0, from); i <= last; i++) {
    if (haystack[i] !== first) continue;
    let k = 1;
    while (k < needle.length && haystack[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
  }
  return -1;
}

function parsePart(part: Uint8Array): DicomPart | null {
  const headerEnd = indexOf(part, CRLF_CRLF, 0, part.length);
  if (headerEnd < 0) return null;
  const headers = new TextDecoder("latin1").decode(part.subarray(0, headerEnd));
  let sopInstanceUid: string | null = null;
  for (const line of headers.split("\r\n")) {
    const match = /^content-location\s*:\s*(.+)$/i.exec(line.trim());
    if (match?.[1]) {
      const uid = /\/instances\/([0-9.]+)\/?$/.exec(match[1].trim());
      sopInstanceUid = uid?.[1] ?? null;
    }
  }
  // A copy: the part's bytes outlive the growing read buffer.
  const bytes = part.slice(headerEnd + 4).buffer;
  return { sopInstanceUid, bytes };
}

/**
 * Splits a multipart/related body into parts while it arrives. Feed it chunks
 * with `push`; it calls `onPart` for every complete part and returns true once
 * the closing delimiter has been read.
 */
export class MultipartReader {
  private buffer = new Uint8Array(1 << 20);
  private length = 0;
  private scanFrom = 0;
  private partStart = -1;
  private closed = false;
  private readonly delimiter: Uint8Array;

  constructor(
    boundary: string,
    private readonly onPart: (part: DicomPart) => void,
  ) {
    this.delimiter = new TextEncoder().encode(`--${boundary}`);
  }

  get done(): boolean {
    return this.closed;
  }

  push(chunk: Uint8Array): boolean {
    if (this.closed) return true;
    if (this.length + chunk.length > this.buffer.length) {
      let size = this.buffer.length;
      while (size < this.length + chunk.length) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(chunk, this.length);
    this.length += chunk.length;
    this.scan();
    return this.closed;
  }

  private scan(): void {
    const { delimiter } = this;
    for (;;) {
      const at = indexOf(this.buffer, delimiter, this.scanFrom, this.length);
      if (at < 0) {
        // The delimiter may straddle the next chunk: look again from just before the end.
        this.scanFrom = Math.max(this.scanFrom, this.length - delimiter.length);
        return;
      }
      const after = at + delimiter.length;
      if (after + 2 > this.length) {
        this.scanFrom = at; // wait for the two bytes that say "next part" or "the end"
        return;
      }
      if (this.partStart >= 0) {
        // The part ends before the CRLF that precedes the delimiter.
        const part = parsePart(
          this.buffer.subarray(this.partStart, Math.max(this.partStart, at - 2)),
        );
        if (part) this.onPart(part);
      }
      if (this.buffer[after] === 45 && this.buffer[after + 1] === 45) {
        this.closed = true;
        return;
      }
      this.partStart = after + 2; // past the CRLF that ends the delimiter line
      this.scanFrom = this.partStart;
      // Drop what is consumed, so the buffer holds about one part at a time.
      this.compact();
    }
  }

  private compact(): void {
    const start = this.partStart;
    if (start < this.buffer.length / 2) return;
    this.buffer.copyWithin(0, start, this.length);
    this.length -= start;
    this.scanFrom -= start;
    this.partStart = 0;
  }
}

/**
 * GETs a WADO-RS series (or study) and calls `onPart` for each instance as it
 * arrives. Rejects with the HTTP status on a non-2xx answer or a body that is
 * not multipart.
 */
export async function fetchMultipartDicom(
  url: string,
  onPart: (part: DicomPart) => void,
  signal?: AbortSignal,
): Promise<void> {
  const init: RequestInit = {
    credentials: "same-origin",
    headers: { Accept: 'multipart/related; type="application/dicom"' },
  };
  if (signal) init.signal = signal;
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
  const boundary = multipartBoundary(response.headers.get("Content-Type"));
  if (boundary === null || response.body === null)
    throw new Error(`${url} did not answer multipart/related`);
  const reader = new MultipartReader(boundary, onPart);
  const stream = response.body.getReader();
  for (;;) {
    const { done, value } = await stream.read();
    if (value && reader.push(value)) break;
    if (done) break;
  }
  if (!reader.done) throw new Error(`${url}: the body ended inside a part`);
}
