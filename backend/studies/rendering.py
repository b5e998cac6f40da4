"""Rendering one frame of a stored image as JPEG or PNG (WADO-URI and WADO-RS ``rendered``)."""

from __future__ import annotations

import io

import numpy as np
from pydicom.pixels import apply_modality_lut, apply_voi_lut

from core.exceptions import ApplicationError
from studies.models import Instance
from studies.selectors import instance_open


def instance_render(instance: Instance, *, frame: int = 1, image_format: str = "jpeg") -> bytes:
    """Frame ``frame`` (1-based) as an 8-bit JPEG/PNG, windowed by the file's VOI or min-max."""
    from PIL import Image

    frames = instance.number_of_frames or 1
    if not 1 <= frame <= frames:
        raise ApplicationError(f"frameNumber {frame} is out of range 1..{frames}.", status_code=400)
    ds = instance_open(instance)
    try:
        pixels = ds.pixel_array
    except Exception as exc:  # no decoder for this transfer syntax
        raise ApplicationError(
            f"Cannot decode the pixel data for rendering: {exc}", status_code=406
        ) from exc
    if frames > 1:
        pixels = pixels[frame - 1]
    samples = int(ds.get("SamplesPerPixel", 1))
    if samples == 1:
        values = apply_modality_lut(pixels, ds)
        if "WindowCenter" in ds and "WindowWidth" in ds:
            values = apply_voi_lut(values, ds)
        values = values.astype(np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) * 255 if high > low else np.zeros_like(values)
        if ds.get("PhotometricInterpretation") == "MONOCHROME1":
            scaled = 255 - scaled
        image = Image.fromarray(scaled.astype(np.uint8), mode="L")
    else:
        image = Image.fromarray(np.asarray(pixels).astype(np.uint8))
    out = io.BytesIO()
    image.save(out, format="PNG" if image_format == "png" else "JPEG", quality=90)
    return out.getvalue()
