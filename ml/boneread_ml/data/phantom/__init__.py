"""Phantom generator: synthetic planar bone scans and bone SPECT/CT with lesions.

Modules by stage: :mod:`regions` (the anatomical vocabulary shared with the
report generator), :mod:`primitives` (vectorised rasterisation),
:mod:`planar_anatomy` / :mod:`planar` (whole-body scans), :mod:`spectct`
(SPECT/CT volumes) and :mod:`lesions` (the lesion model shared by both).
"""
