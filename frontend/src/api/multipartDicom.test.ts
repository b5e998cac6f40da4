import { describe, expect, it } from "vitest";
import { MultipartReader, multipartBoundary, type DicomPart } from "./multipartDicom";

const enc = new TextEncoder();

function body(
  boundary: string,
  parts: { uid: string | null; bytes: Uint8Array }[],
): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    const location = part.uid
      ? `Content-Location: http://h/dicomweb/studies/1/series/2/instances/${part.uid}\r\n`
      : "";
    chunks.push(
      enc.encode(`--${boundary}\r\nContent-Type: application/dicom\r\n${location}\r\n`),
    );
    chunks.push(part.bytes);
    chunks.push(enc.encode("\r\n"));
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function payload(n: number, size: number): Uint8Array {
  // Binary, with CR LF and dashes inside, as DICOM pixel data may hold.
  return Uint8Array.from(
    { length: size },
    (_, i) => [13, 10, 45, 45, n, i & 255][i % 6]!,
  );
}

describe("MultipartReader", () => {
  const parts = [
    { uid: "1.2.3", bytes: payload(1, 5000) },
    { uid: "1.2.4", bytes: payload(2, 70_000) },
    { uid: null, bytes: payload(3, 10) },
  ];
  const whole = body("boneread-abc", parts);

  for (const size of [1, 7, 4096, whole.length]) {
    it(`splits a body read in chunks of ${size} bytes`, () => {
      const got: DicomPart[] = [];
      const reader = new MultipartReader("boneread-abc", (p) => got.push(p));
      let closed = false;
      for (let at = 0; at < whole.length; at += size)
        closed = reader.push(whole.subarray(at, at + size));
      expect(closed).toBe(true);
      expect(got.map((p) => p.sopInstanceUid)).toEqual(["1.2.3", "1.2.4", null]);
      got.forEach((p, k) => expect(new Uint8Array(p.bytes)).toEqual(parts[k]!.bytes));
    });
  }

  it("is not done before the closing delimiter", () => {
    const reader = new MultipartReader("boneread-abc", () => undefined);
    expect(reader.push(whole.subarray(0, whole.length - 5))).toBe(false);
    expect(reader.done).toBe(false);
  });
});

describe("multipartBoundary", () => {
  it("reads quoted and bare boundaries of multipart types only", () => {
    expect(
      multipartBoundary('multipart/related; type="application/dicom"; boundary=b-1'),
    ).toBe("b-1");
    expect(multipartBoundary('multipart/related; boundary="q x"')).toBe("q x");
    expect(multipartBoundary("application/json")).toBeNull();
    expect(multipartBoundary(null)).toBeNull();
  });
});
