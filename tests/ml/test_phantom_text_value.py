"""The premise of the report-conditioned model, checked on a small generated set.

docs/synthetic-data.md gives the full numbers (400 planar cases); this guards
against a generator change that makes the image decisive or the report useless.
"""

from __future__ import annotations

import pytest

from boneread_ml.analysis.text_value import analyse
from boneread_ml.data.manifest import generate


@pytest.mark.slow
def test_image_alone_is_ambiguous_and_the_report_helps(tmp_path):
    root = generate("planar", 120, 0, tmp_path / "set", dicom=False, workers=2)
    result = analyse(root, sweep=(0.0, 0.7), n_boot=200)
    image_only = result["image_only"]["auc"]
    at_zero, at_default = result["sweep"]
    assert 0.6 < image_only < 0.95, f"image-only AUC {image_only:.3f}"
    assert at_default["auc_gain"] > 0.05
    assert at_default["auc_gain_95ci"][0] > 0.0
    # without described lesions the report can only add what the history says
    assert at_zero["auc_gain"] < at_default["auc_gain"]
    assert at_zero["lesions_not_named"] == 1.0
