"""Rendering one frame of a stored image as JPEG or PNG (WADO-URI and WADO-RS ``rendered``).

Bounded: only the asked-for frame is decoded (never the whole multi-frame object), and the
output is at most WADO_RENDERED_MAX_SIZE pixels on its longer edge (a ``viewport`` / ``rows``,
``columns`` request may ask for less, never more).
"""

from __future__ import annotations

import io

import numpy as np
from django.conf import settings
from pydicom.pixels import apply_modality_lut, apply_voi_lut, pixel_array

from core.exceptions import ApplicationError
from studies.models import Instance
from studies.selectors import instance_file_open, instance_open


def render_size_from_viewport(viewport: str) -> int | None:
    """The longer edge a WADO-RS ``viewport=vw,vh[,...]`` asks for (None when not given)."""
    if not viewport:
        return None
    parts = viewport.split(",")
    try:
        width, height = int(parts[0]), int(parts[1] if len(parts) > 1 else parts[0])
    except ValueError as exc:
        raise ApplicationError(f"viewport '{viewport[:50]}' is not 'width,height'.") from exc
    return render_size_check(max(width, height), name="viewport")


def render_size_check(size: int, *, name: str) -> int:
    limit = settings.WADO_RENDERED_MAX_SIZE
    if not 1 <= size <= limit:
        raise ApplicationError(
            f"{name} {size} is outside 1..{limit} pixels (WADO_RENDERED_MAX_SIZE).",
            extra={"limit": limit},
        )
    return size


def _frame_pixels(instance: Instance, frame: int) -> tuple[np.ndarray, object]:
    header = instance_open(instance, stop_before_pixels=True)
    pixels = int(header.get("Rows", 0)) * int(header.get("Columns", 0))
    pixels *= int(header.get("SamplesPerPixel", 1))
    limit = settings.WADO_RENDER_MAX_SOURCE_PIXELS
    if pixels > limit:
        raise ApplicationError(
            f"A frame of {pixels} pixels is larger than the {limit} pixels this server renders "
            "(WADO_RENDER_MAX_SOURCE_PIXELS); retrieve the DICOM object instead.",
            extra={"limit": limit},
        )
    try:
        with instance_file_open(instance) as handle:
            pixels = pixel_array(handle, index=frame - 1)  # decodes this frame only
    except Exception as exc:  # no decoder for this transfer syntax, damaged data
        raise ApplicationError(
            f"Cannot decode the pixel data for rendering: {exc}", status_code=406
        ) from exc
    return pixels, header


def instance_render(
    instance: Instance, *, frame: int = 1, image_format: str = "jpeg", max_size: int | None = None
) -> bytes:
    """Frame ``frame`` (1-based) as an 8-bit JPEG/PNG, windowed by the file's VOI or min-max."""
    from PIL import Image

    frames = instance.number_of_frames or 1
    if not 1 <= frame <= frames:
        raise ApplicationError(f"frameNumber {frame} is out of range 1..{frames}.", status_code=400)
    pixels, ds = _frame_pixels(instance, frame)
    samples = int(ds.get("SamplesPerPixel", 1))
    if samples == 1:
        values = apply_modality_lut(pixels, ds)
        if "WindowCenter" in ds and "WindowWidth" in ds:
            values = apply_voi_lut(values, ds)
        values = np.asarray(values, dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
        if ds.get("PhotometricInterpretation") == "MONOCHROME1":
            scaled = 255 - scaled
        image = Image.fromarray(scaled.astype(np.uint8), mode="L")
    else:
        image = Image.fromarray(np.asarray(pixels).astype(np.uint8))
    edge = min(max_size or settings.WADO_RENDERED_MAX_SIZE, settings.WADO_RENDERED_MAX_SIZE)
    if max(image.size) > edge:
        image.thumbnail((edge, edge))
    out = io.BytesIO()
    image.save(out, format="PNG" if image_format == "png" else "JPEG", quality=90)
    return out.getvalue()
