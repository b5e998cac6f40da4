"""Vectorised rasterisation of simple shapes with anti-aliased edges.

Every function returns a float32 map in [0, 1] over a whole grid (``shape``),
computed with numpy broadcasting on the shape's bounding box only.
"""

from __future__ import annotations

import numpy as np


def _box(shape, lo, hi):
    """Slices of the grid covering [lo, hi] (per axis, clipped), or None if empty."""
    sl = []
    for n, a, b in zip(shape, lo, hi, strict=True):
        a = max(int(np.floor(a)), 0)
        b = min(int(np.ceil(b)) + 1, n)
        if b <= a:
            return None
        sl.append(slice(a, b))
    return tuple(sl)


def _grid(sl):
    return np.meshgrid(*[np.arange(s.start, s.stop, dtype=np.float32) for s in sl], indexing="ij")


def ellipse(shape, center, semi_axes, angle_deg=0.0, edge=1.0) -> np.ndarray:
    """Filled 2D ellipse (rows, cols) with a soft edge ``edge`` pixels wide."""
    out = np.zeros(shape, np.float32)
    r = max(semi_axes) + 2 * edge
    sl = _box(shape, (center[0] - r, center[1] - r), (center[0] + r, center[1] + r))
    if sl is None:
        return out
    yy, xx = _grid(sl)
    t = np.deg2rad(angle_deg)
    dy, dx = yy - center[0], xx - center[1]
    u = dy * np.cos(t) + dx * np.sin(t)
    v = -dy * np.sin(t) + dx * np.cos(t)
    rho = np.sqrt((u / semi_axes[0]) ** 2 + (v / semi_axes[1]) ** 2)
    # signed distance approximated in units of the mean semi-axis
    d = (1.0 - rho) * float(np.mean(semi_axes))
    out[sl] = np.clip(d / edge + 0.5, 0.0, 1.0)
    return out


def capsule(shape, p0, p1, radius, edge=1.0) -> np.ndarray:
    """Line segment p0-p1 thickened to ``radius`` pixels (2D or 3D)."""
    p0 = np.asarray(p0, np.float32)
    p1 = np.asarray(p1, np.float32)
    out = np.zeros(shape, np.float32)
    pad = radius + 2 * edge
    sl = _box(shape, np.minimum(p0, p1) - pad, np.maximum(p0, p1) + pad)
    if sl is None:
        return out
    grids = _grid(sl)
    seg = p1 - p0
    ll = float(seg @ seg) or 1e-6
    t = sum((g - a) * s for g, a, s in zip(grids, p0, seg, strict=True)) / ll
    t = np.clip(t, 0.0, 1.0)
    d2 = sum((g - (a + t * s)) ** 2 for g, a, s in zip(grids, p0, seg, strict=True))
    out[sl] = np.clip((radius - np.sqrt(d2)) / edge + 0.5, 0.0, 1.0)
    return out


def polyline(shape, points, radius, edge=1.0) -> np.ndarray:
    """Union (maximum) of capsules along consecutive points."""
    out = np.zeros(shape, np.float32)
    for a, b in zip(points[:-1], points[1:], strict=True):
        np.maximum(out, capsule(shape, a, b, radius, edge), out=out)
    return out


def polygon(shape, vertices) -> np.ndarray:
    """Filled 2D polygon (even-odd rule, no anti-aliasing) as float32 0/1."""
    v = np.asarray(vertices, np.float32)
    out = np.zeros(shape, np.float32)
    sl = _box(shape, v.min(0), v.max(0))
    if sl is None:
        return out
    yy, xx = _grid(sl)
    inside = np.zeros(yy.shape, bool)
    n = len(v)
    for i in range(n):
        (y0, x0), (y1, x1) = v[i], v[(i + 1) % n]
        cond = (y0 > yy) != (y1 > yy)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = x0 + (yy - y0) * (x1 - x0) / (y1 - y0)
        inside ^= cond & (xx < xc)
    out[sl] = inside
    return out


def ellipsoid(shape, center, semi_axes, edge=1.0) -> np.ndarray:
    """Filled axis-aligned 3D ellipsoid (z, y, x) with a soft edge."""
    out = np.zeros(shape, np.float32)
    lo = [c - a - 2 * edge for c, a in zip(center, semi_axes, strict=True)]
    hi = [c + a + 2 * edge for c, a in zip(center, semi_axes, strict=True)]
    sl = _box(shape, lo, hi)
    if sl is None:
        return out
    grids = _grid(sl)
    rho = np.sqrt(sum(((g - c) / a) ** 2 for g, c, a in zip(grids, center, semi_axes, strict=True)))
    d = (1.0 - rho) * float(np.mean(semi_axes))
    out[sl] = np.clip(d / edge + 0.5, 0.0, 1.0)
    return out


def rotated_ellipsoid(shape, center, semi_axes, rotation, edge=1.0) -> np.ndarray:
    """Filled 3D ellipsoid whose axes are the rows of ``rotation`` (3 x 3), soft edge."""
    out = np.zeros(shape, np.float32)
    r = max(semi_axes) + 2 * edge
    sl = _box(shape, [c - r for c in center], [c + r for c in center])
    if sl is None:
        return out
    grids = _grid(sl)
    d = [g - c for g, c in zip(grids, center, strict=True)]
    rot = np.asarray(rotation, np.float32)
    rho2 = 0.0
    for k in range(3):
        u = rot[k, 0] * d[0] + rot[k, 1] * d[1] + rot[k, 2] * d[2]
        rho2 = rho2 + (u / semi_axes[k]) ** 2
    dist = (1.0 - np.sqrt(rho2)) * float(np.mean(semi_axes))
    out[sl] = np.clip(dist / edge + 0.5, 0.0, 1.0)
    return out
