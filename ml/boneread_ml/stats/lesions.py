"""Lesion-level scores: localisation, false marks, per-lesion classification, and the weighted
AFROC figure of merit (RJafroc's ``wAFROC``) with the Obuchowski-Rockette analysis.

Matching rule. A mark hits a truth lesion of the same case when its distance to the lesion's
centre is at most the lesion's ``radius`` (column, same units as the coordinates) or, without
one, ``hit_distance``; or when it falls inside the lesion's mask (``masks[(case, lesion)]``, a
boolean array indexed by the mark's integer coordinates). A mark hitting several lesions goes to
the nearest. Each lesion keeps its highest-rated mark as the lesion localisation (LL); further
marks on an already-found lesion are counted as duplicates (neither found lesions nor false
marks); a mark hitting no lesion is a false mark (non-lesion localisation, NL).

wAFROC (Chakraborty; RJafroc ``UtilFigureOfMerit(FOM = "wAFROC")``): over normal cases k1 and
abnormal cases k2, FOM = mean_{k1,k2} sum_l w_{k2 l} psi(FP_k1, LL_{k2 l}), where FP_k1 is the
highest NL rating on normal case k1 (-inf without marks), LL the lesion's rating (-inf when
not found), psi(x, y) = 1 if y > x, 1/2 if y == x, 0 otherwise, and w are lesion weights summing
to 1 per case (equal by default).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from boneread_ml.stats.accuracy import proportion
from boneread_ml.stats.data import StatsInputError, require_columns
from boneread_ml.stats.mrmc import MRMCResult, jackknife_covariance, or_analysis


def _coords(df: pd.DataFrame) -> list[str]:
    return [c for c in ("x", "y", "z") if c in df.columns]


def match_marks(
    marks: pd.DataFrame,
    lesions: pd.DataFrame,
    *,
    hit_distance: float = 10.0,
    masks: dict | None = None,
) -> pd.DataFrame:
    """Assign each mark to the lesion it hits (or none).

    Args:
        marks: columns case, x, y[, z] (plus anything else, kept).
        lesions: columns case, lesion, x, y[, z][, radius][, label][, weight].
        hit_distance: distance for a hit when a lesion has no radius.
        masks: optional {(case, lesion): boolean array} indexed by the mark's coordinates.

    Returns:
        ``marks`` with columns ``lesion`` (None for no hit) and ``distance``.
    """
    require_columns(marks, ["case", "x", "y"], what="marks")
    require_columns(lesions, ["case", "lesion", "x", "y"], what="truth lesions")
    axes = [c for c in _coords(marks) if c in lesions.columns]
    out = marks.copy()
    hit, dist = [], []
    by_case = {str(k): g for k, g in lesions.groupby(lesions["case"].astype(str))}
    for _, m in marks.iterrows():
        cand = by_case.get(str(m["case"]))
        best, best_d = None, np.inf
        if cand is not None:
            for _, les in cand.iterrows():
                d = float(np.sqrt(sum((float(m[a]) - float(les[a])) ** 2 for a in axes)))
                key = (str(m["case"]), str(les["lesion"]))
                inside = False
                if masks and key in masks:
                    idx = tuple(int(round(float(m[a]))) for a in axes)
                    mask = masks[key]
                    inside = all(
                        0 <= i < s for i, s in zip(idx, mask.shape, strict=False)
                    ) and bool(mask[idx])
                    d = 0.0 if inside else d
                radius = les["radius"] if "radius" in les and pd.notna(les["radius"]) else None
                ok = inside or d <= (float(radius) if radius is not None else hit_distance)
                if ok and d < best_d:
                    best, best_d = str(les["lesion"]), d
        hit.append(best)
        dist.append(best_d if best is not None else None)
    out["lesion"] = hit
    out["distance"] = dist
    return out


def lesion_scores(
    marks: pd.DataFrame,
    lesions: pd.DataFrame,
    cases: list[str],
    *,
    hit_distance: float = 10.0,
    masks: dict | None = None,
    alpha: float = 0.05,
) -> list[dict]:
    """Localisation sensitivity, false marks per case and lesion classification accuracy per
    reader and arm.

    Args:
        marks: reader, arm, case, x, y[, z][, label][, rating].
        lesions: case, lesion, x, y[, z][, radius][, label].
        cases: every case each reader read (normal cases included).
    """
    require_columns(marks, ["reader", "arm"], what="marks")
    matched = match_marks(marks, lesions, hit_distance=hit_distance, masks=masks)
    if "rating" not in matched.columns:
        matched["rating"] = 1.0
    cases = [str(c) for c in cases]
    les = lesions.assign(case=lesions["case"].astype(str), lesion=lesions["lesion"].astype(str))
    les = les[les["case"].isin(cases)]
    out = []
    for (rd, arm), g in matched.groupby(["reader", "arm"], sort=True):
        g = g[g["case"].astype(str).isin(cases)]
        hits = g[g["lesion"].notna()].sort_values("rating", ascending=False)
        first = hits.drop_duplicates(["case", "lesion"])
        found = len(first)
        false_marks = int(g["lesion"].isna().sum())
        row = {
            "reader": rd,
            "arm": arm,
            "n_cases": len(cases),
            "n_lesions": len(les),
            "localisation_sensitivity": proportion(found, len(les), alpha=alpha),
            "false_marks": false_marks,
            "false_marks_per_case": false_marks / len(cases) if cases else None,
            "duplicate_marks": len(hits) - found,
        }
        if "label" in first.columns and "label" in les.columns:
            lab = first.merge(
                les[["case", "lesion", "label"]],
                on=["case", "lesion"],
                suffixes=("_mark", "_truth"),
            )
            lab = lab[lab["label_mark"].notna()]
            correct = int((lab["label_mark"].astype(str) == lab["label_truth"].astype(str)).sum())
            row["classification_accuracy"] = proportion(correct, len(lab), alpha=alpha)
        out.append(row)
    return out


def _wafroc_matrix(fp: np.ndarray, ll: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A[k1, k2] = sum_l w[k2, l] psi(fp[k1], ll[k2, l]); padded lesions have w = 0."""
    f = fp[:, None, None]
    psi = (ll[None] > f).astype(float) + 0.5 * (ll[None] == f)
    return (psi * w[None]).sum(axis=2)


def wafroc_arrays(
    marks: pd.DataFrame,
    lesions: pd.DataFrame,
    cases: list[str],
    *,
    hit_distance: float = 10.0,
    masks: dict | None = None,
    treatments: list[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str], list[str], list[str]]:
    """wAFROC figure of merit per treatment and reader, and its leave-one-case-out values.

    Returns:
        (theta (t, r), jack (t, r, c), treatments, readers, cases).
    """
    require_columns(marks, ["reader", "arm", "case", "x", "y"], what="marks")
    cases = [str(c) for c in cases]
    les = lesions.assign(case=lesions["case"].astype(str), lesion=lesions["lesion"].astype(str))
    matched = match_marks(marks, les, hit_distance=hit_distance, masks=masks)
    matched["case"] = matched["case"].astype(str)
    if "rating" not in matched.columns:
        matched["rating"] = 1.0
    abnormal = [c for c in cases if c in set(les["case"])]
    normal = [c for c in cases if c not in set(les["case"])]
    if not abnormal or not normal:
        raise StatsInputError("wAFROC needs normal cases (no lesion) and abnormal cases")
    lmax = int(les.groupby("case").size().max())
    w = np.zeros((len(abnormal), lmax))
    lesion_ids = []
    for i, c in enumerate(abnormal):
        g = les[les["case"] == c]
        lesion_ids.append(list(g["lesion"]))
        if "weight" in g.columns:
            w[i, : len(g)] = g["weight"].to_numpy(float) / g["weight"].sum()
        else:
            w[i, : len(g)] = 1.0 / len(g)
    treatments = treatments or sorted(matched["arm"].astype(str).unique())
    readers = sorted(matched["reader"].astype(str).unique())
    t, r = len(treatments), len(readers)
    theta = np.empty((t, r))
    jack = np.empty((t, r, len(cases)))
    pos = {c: i for i, c in enumerate(cases)}
    for ti, arm in enumerate(treatments):
        for ri, rd in enumerate(readers):
            g = matched[(matched["arm"].astype(str) == arm) & (matched["reader"].astype(str) == rd)]
            nl = g[g["lesion"].isna()]
            fp = np.array(
                [
                    nl.loc[nl["case"] == c, "rating"].max() if (nl["case"] == c).any() else -np.inf
                    for c in normal
                ],
                dtype=float,
            )
            ll = np.full((len(abnormal), lmax), -np.inf)
            best = g[g["lesion"].notna()].groupby(["case", "lesion"])["rating"].max()
            for i, c in enumerate(abnormal):
                for li, lid in enumerate(lesion_ids[i]):
                    if (c, lid) in best.index:
                        ll[i, li] = best[(c, lid)]
            a = _wafroc_matrix(fp, ll, w)
            k1, k2 = a.shape
            total = a.sum()
            theta[ti, ri] = total / (k1 * k2)
            for i, c in enumerate(normal):
                jack[ti, ri, pos[c]] = (total - a[i].sum()) / ((k1 - 1) * k2) if k1 > 1 else np.nan
            for j, c in enumerate(abnormal):
                jack[ti, ri, pos[c]] = (
                    (total - a[:, j].sum()) / (k1 * (k2 - 1)) if k2 > 1 else np.nan
                )
    return theta, jack, treatments, readers, cases


def wafroc_analysis(
    marks: pd.DataFrame,
    lesions: pd.DataFrame,
    cases: list[str],
    *,
    hit_distance: float = 10.0,
    masks: dict | None = None,
    treatments: list[str] | None = None,
    readers: str = "random",
    alpha: float = 0.05,
) -> MRMCResult:
    """Obuchowski-Rockette analysis (jackknife covariance, Hillis ddf) of the wAFROC FOM."""
    theta, jack, trts, rdrs, _ = wafroc_arrays(
        marks, lesions, cases, hit_distance=hit_distance, masks=masks, treatments=treatments
    )
    res = or_analysis(
        theta,
        jackknife_covariance(jack),
        readers=readers,
        alpha=alpha,
        treatments=trts,
        reader_ids=rdrs,
        covariance="jackknife",
    )
    res.method = "or-wafroc"
    res.n_cases = len(cases)
    return res
