"""multipart/related bodies (PS3.18 8.6): reading STOW-RS requests, writing WADO-RS responses."""

from __future__ import annotations

import mmap
import re
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from typing import IO


class MultipartError(ValueError):
    pass


def content_type_params(value: str) -> tuple[str, dict[str, str]]:
    """``'multipart/related; type="application/dicom"; boundary=x'`` -> (media type, params)."""
    media, *rest = [part.strip() for part in value.split(";")]
    params = {}
    for item in rest:
        key, _, val = item.partition("=")
        if key:
            params[key.strip().lower()] = val.strip().strip('"')
    return media.lower(), params


def spool_body(stream: IO[bytes], *, length: int | None, limit: int) -> IO[bytes]:
    """Copy a request body into a temporary file (on disk: bodies may be gigabytes)."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (returned to the caller, who closes it)
    total = 0
    while True:
        block = stream.read(1024 * 1024 if length is None else min(1024 * 1024, length - total))
        if not block:
            break
        total += len(block)
        if total > limit:
            spool.close()
            raise MultipartError(f"request body larger than the limit of {limit} bytes")
        spool.write(block)
        if length is not None and total >= length:
            break
    spool.flush()
    spool.seek(0)
    return spool


_HEADER_LINE = re.compile(rb"^([^:\r\n]+):[ \t]*(.*)$")


def iter_parts(body: IO[bytes], boundary: str) -> Iterator[tuple[dict[str, str], bytes]]:
    """Yield ``(headers, payload)`` of each part of a multipart body held in a real file."""
    if not boundary:
        raise MultipartError("multipart/related without a boundary parameter")
    body.seek(0, 2)
    if body.tell() == 0:
        return
    body.seek(0)
    marker = b"--" + boundary.encode("latin-1")
    with mmap.mmap(body.fileno(), 0, access=mmap.ACCESS_READ) as view:
        position = view.find(marker)
        if position < 0:
            raise MultipartError("no part found: the boundary does not occur in the body")
        while True:
            position += len(marker)
            if view[position : position + 2] == b"--":
                return  # closing delimiter
            header_end = view.find(b"\r\n\r\n", position)
            if header_end < 0:
                raise MultipartError("a part has no header/body separator")
            headers = {}
            for line in view[position:header_end].split(b"\r\n"):
                match = _HEADER_LINE.match(line)
                if match:
                    headers[match.group(1).decode("latin-1").strip().lower()] = match.group(
                        2
                    ).decode("latin-1")
            start = header_end + 4
            end = view.find(b"\r\n" + marker, start)
            if end < 0:
                raise MultipartError("the body ends inside a part (no closing boundary)")
            payload = view[start:end]
            # The mapped pages of this part now live on in ``payload``: drop them from the
            # worker's resident memory (they are re-read from the file if ever needed), so a
            # large part is held once, not twice (benchmarks/memory.py).
            if hasattr(mmap, "MADV_DONTNEED"):
                first_page = position - position % mmap.PAGESIZE
                view.madvise(mmap.MADV_DONTNEED, first_page, end - first_page)
            yield headers, payload
            position = end + 2


def multipart_stream(
    parts: Iterable[tuple[str, Iterable[bytes]] | tuple[str, Iterable[bytes], str]],
    boundary: str,
) -> Iterator[bytes]:
    """Chunks of a multipart/related body from ``(content type, chunks)`` parts, or
    ``(content type, chunks, content location)`` ones (PS3.18 8.6.1.2: a part may name the
    resource it holds; the viewer uses it to file each instance of a series under its URL)."""
    for content_type, chunks, *location in parts:
        headers = f"Content-Type: {content_type}\r\n"
        if location:
            headers += f"Content-Location: {location[0]}\r\n"
        yield f"--{boundary}\r\n{headers}\r\n".encode("latin-1")
        yield from chunks
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode("latin-1")


def new_boundary() -> str:
    return f"boneread-{uuid.uuid4().hex}"
