"""The keyword rule: the strongest simple use of the report, a peer MT-UNet must beat.

Take an image-only network's lesion mask and give every lesion the class the report's
impression names by keywords (metastasis wins when both are named); empty the scan when the
impression names no class. If MT-UNet only used the report as a case-level class label, this
rule would match it; grounding findings in place is what it cannot do.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from boneread_ml.data.datasets import impression_only
from boneread_ml.data.reports import BENIGN_TERMS, METASTATIC_TERMS
from boneread_ml.predict import Prediction

#: Clause words that negate a finding (未见骨转移征象, 无明显异常).
NEGATIONS = ("未见", "无明显", "无明确", "排除")
_CLAUSE_SPLIT = re.compile(r"[，。；;,.\n]")


def keyword_rule_name(source: str) -> str:
    """The comparison row of the rule on ``source``'s masks: ``keyword_rule`` on the no-text
    MT-UNet's (as in every earlier comparison), ``keyword_rule_<source>`` on another network's."""
    return "keyword_rule" if source == "mt_unet_no_text" else f"keyword_rule_{source}"


def report_class(text: str) -> int:
    """The class the impression names: 2 metastatic, 1 benign, 0 none (negated clauses skipped).

    "不除外骨转移" (metastasis not excluded) names metastasis: only clauses that deny a finding
    (未见, 无明显, ...) are skipped.
    """
    clauses = [c for c in _CLAUSE_SPLIT.split(impression_only(text)) if c]
    named = [c for c in clauses if not any(n in c for n in NEGATIONS)]
    if any(t in c for c in named for t in METASTATIC_TERMS):
        return 2
    if any(t in c for c in named for t in BENIGN_TERMS):
        return 1
    return 0


def keyword_rule_prediction(image_only: Prediction, text: str) -> Prediction:
    """Relabel an image-only prediction by :func:`report_class`.

    Every lesion pixel gets the named class; the lesion probability (1 - p(background)) moves
    to that class, so pixel ROC curves of the rule are comparable with the models'.
    """
    cls = report_class(text)
    probs = image_only.probabilities
    lesion_p = 1.0 - probs[0]
    out = np.zeros_like(probs)
    out[0] = 1.0 if cls == 0 else probs[0]
    label_map = np.zeros_like(image_only.label_map)
    if cls:
        out[cls] = lesion_p
        label_map[image_only.label_map > 0] = cls
    lesions = [] if cls == 0 else [
        {**les, "label": cls, "class_name": "metastatic" if cls == 2 else "benign"}
        for les in image_only.lesions
    ]  # fmt: skip
    instance_map = image_only.instance_map if cls else np.zeros_like(image_only.instance_map)
    return replace(
        image_only,
        label_map=label_map,
        probabilities=out,
        lesions=lesions,
        instance_map=instance_map,
        model_name="keyword_rule",
    )
