"""Report grounding: named sites -> class maps, the site-swap probe, flips with swapped sides,
boundary-tolerant Dice and the lesion-probability recalibration."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from boneread_ml.data.datasets import SegmentationDataset, TextCollate, swap_sides, swap_sites
from boneread_ml.data.report_sites import parse_sites, planar_site_maps, register_atlas
from boneread_ml.evaluation.calibrate import apply_lesion_calibration, fit_lesion_calibration
from boneread_ml.evaluation.metrics import dice, tolerant_case_metrics, tolerant_dice
from boneread_ml.models import MTUNet, ReportEncoder

MIXED = (
    "临床病史：肺癌。\n检查所见：第2胸椎见不规则形放射性摄取增高，考虑骨转移。"
    "左侧第5、6肋见点状放射性浓聚，考虑骨折。双侧膝关节放射性摄取增高，考虑退行性变。"
    "第4腰椎可见结节状异常浓聚灶影，考虑终板退行性变。"
    "余骨未见明显异常放射性浓聚灶。\n诊断意见：第2胸椎骨转移可能性大。未见其他骨转移征象。"
)


def test_parse_sites_reads_class_and_site_of_every_finding():
    sites = parse_sites(MIXED)
    assert ("spine_t2", 2) in sites
    assert {("rib_l5", 1), ("rib_l6", 1), ("knee_l", 1), ("knee_r", 1)} <= set(sites)
    # the negated impression sentence names nothing; no site gets both classes
    assert not any(c == 2 and k != "spine_t2" for k, c in sites)
    assert parse_sites("全身骨显像未见明显异常。") == []
    # a longer name is not read as the shorter one inside it
    assert parse_sites("第11胸椎放射性浓聚，考虑骨转移。") == [("spine_t11", 2)]


def test_swap_sites_exchanges_a_metastatic_and_a_benign_site():
    swapped = swap_sites(MIXED)
    assert swapped != MIXED
    sites = parse_sites(swapped)
    moved = [k for k, c in sites if c == 2]
    assert set(moved) == {"spine_l4"}  # in the findings and in the impression
    assert ("spine_t2", 1) in sites and ("spine_l4", 2) in sites
    # a report with one class only is left as it is
    assert swap_sites("第3腰椎放射性浓聚，考虑骨转移。") == "第3腰椎放射性浓聚，考虑骨转移。"


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    manifest = pytest.importorskip("boneread_ml.data.manifest")
    root = manifest.generate("planar", 12, 7, tmp_path_factory.mktemp("sites"), dicom=False)
    return manifest, root


def test_site_maps_put_each_described_lesion_under_its_own_class(phantom):
    """Every lesion the report describes lies under its own class's map, with cover enough for
    the report-site rule (postprocess.site_rule.min_cover 0.5) to decide it. The outline-only
    registration (the trunk's outline and the legs' width, one arm pose) left about one in five
    short, at the shoulders, arms, hips and pelvis."""
    manifest, root = phantom
    decided, described, other = 0, 0, 0
    for case in manifest.load_manifest(root)["cases"]:
        arrays = manifest.load_case_arrays(root, case)
        maps = planar_site_maps(case["report"]["text"], arrays["image"])
        assert maps.shape == (2, *arrays["image"].shape[1:]) and maps.dtype == np.float32
        for les in case["lesions"]:
            if les["id"] in case["report"]["omitted_lesions"]:
                continue
            px = arrays["instance"] == les["id"]
            mine, theirs = maps[les["label"] - 1][px].mean(), maps[2 - les["label"]][px].mean()
            described += 1
            decided += mine >= 0.5 > theirs
            other += mine < theirs
    assert described >= 20 and other == 0
    assert decided >= 0.95 * described, f"{decided} of {described} described lesions decidable"
    assert not planar_site_maps("", arrays["image"]).any()


def _bone_dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / max(1, int(a.sum() + b.sum()))


def test_registration_lays_the_atlas_on_the_scans_own_bones(phantom):
    """The registered atlas's bones against the phantom's true bone map, by body part: head,
    chest and arms, abdomen and pelvis, legs. Outline-only scaling reached about 0.3-0.7."""
    manifest, root = phantom
    bands = ((0, 250), (250, 450), (450, 600), (600, 1024))
    dices = []
    for case in manifest.load_manifest(root)["cases"]:
        arrays = manifest.load_case_arrays(root, case)
        atlas = register_atlas(arrays["image"]).any(axis=0)
        truth = arrays["bone"] > 0
        dices.append([_bone_dice(atlas[lo:hi], truth[lo:hi]) for lo, hi in bands])
    assert np.mean(dices, axis=0).min() >= 0.8, np.mean(dices, axis=0)


@pytest.mark.parametrize("arm_deg", [3.0, 13.0])
def test_registration_finds_the_arm_pose_a_rotation_and_a_smaller_matrix(arm_deg):
    """A scan drawn from the anatomy at another arm pose than the atlas's middle one, turned by
    1 degree, shifted, and sampled on a half-size matrix: shoulders, elbows, wrists, hips and
    knees land within a pixel of where they are (a pose 1 degree off puts the wrists about 2
    pixels of this matrix out)."""
    from scipy import ndimage

    from boneread_ml.data.phantom import planar_anatomy as pa
    from boneread_ml.data.phantom.regions import code

    tpl = pa.build_template(arm_deg)
    uptake = sum(pa.GROUP_UPTAKE[g] * img for (g, _), img in tpl.groups.items())
    theta = np.deg2rad(1.0)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    # output pixel (half-size grid) -> template pixel: scale 2, turn, shift 10 rows and 4 columns
    matrix = rot @ np.diag([2.0, 2.0])
    shape = (512, 128)
    offset = np.array([512.0, 128.0]) - matrix @ np.array([256.0, 64.0]) + np.array([-10.0, 4.0])
    scan = ndimage.affine_transform(uptake, matrix, offset=offset, output_shape=shape, order=1)
    truth = ndimage.affine_transform(
        tpl.regions[1], matrix, offset=offset, output_shape=shape, order=0
    )
    atlas = register_atlas(np.stack([scan, scan]))
    assert atlas.shape == (3, *shape)
    for side in "lr":
        for joint in ("shoulder", "elbow", "wrist", "hip", "knee"):
            key = f"{joint}_{side}"
            found = np.array(ndimage.center_of_mass(atlas[1] == code(key)))
            true = np.array(ndimage.center_of_mass(truth == code(key)))
            assert np.hypot(*(found - true)) <= 1.2, (key, found - true)


def test_an_unknown_registration_is_refused_by_name():
    from boneread_ml.training.config import load_config

    image = np.ones((2, 64, 16), np.float32)
    with pytest.raises(ValueError, match="unknown site-map registration 'elastic'"):
        planar_site_maps("第3腰椎见异常放射性浓聚，考虑骨转移。", image, registration="elastic")
    with pytest.raises(ValueError, match="unknown site-map registration 'elastic'"):
        register_atlas(image, "elastic")
    assert load_config(None)["site_registration"] == "fitted"
    with pytest.raises(ValueError, match="site_registration must be one of fitted, outline"):
        load_config(None, {"site_registration": "elastic"})


def test_the_outline_registration_ignores_the_arm_pose_and_the_fit_does_not(phantom):
    """ "outline" (what releases trained before the fit read) is the outline's scaling alone:
    the same whatever the arms do; the fit moves the elbows with the arms."""
    from boneread_ml.data.phantom import planar_anatomy as pa
    from boneread_ml.data.phantom.regions import code

    def elbows(arm_deg, registration):
        tpl = pa.build_template(arm_deg)
        uptake = sum(pa.GROUP_UPTAKE[g] * img for (g, _), img in tpl.groups.items())
        atlas = register_atlas(np.stack([uptake, uptake]), registration)
        return np.flatnonzero((atlas[1] == code("elbow_l")).any(axis=0)).mean()

    assert elbows(2.0, "outline") == elbows(14.0, "outline")
    assert elbows(14.0, "fitted") - elbows(2.0, "fitted") > 10  # columns: the elbow goes out


def test_a_blank_or_tiny_scan_gets_maps_without_error():
    text = "第3腰椎见异常放射性浓聚，考虑骨转移。"
    blank = planar_site_maps(text, np.zeros((2, 1024, 256), np.float32))
    assert blank.shape == (2, 1024, 256) and np.isfinite(blank).all()
    tiny = planar_site_maps(text, np.ones((2, 8, 4), np.float32))
    assert tiny.shape == (2, 8, 4) and np.isfinite(tiny).all()


def test_swapping_sides_moves_the_map_of_a_lateral_finding(phantom):
    manifest, root = phantom
    case = manifest.load_manifest(root)["cases"][0]
    image = manifest.load_case_arrays(root, case)["image"]
    text = "检查所见：左侧第6肋见点状放射性浓聚，考虑骨折。"
    left = planar_site_maps(text, image)[0]
    right = planar_site_maps(swap_sides(text), image)[0]
    cols = np.arange(image.shape[-1])
    # anterior frame: the patient's left lies on the image's right
    assert (left.sum(0) * cols).sum() / left.sum() > image.shape[-1] / 2
    assert (right.sum(0) * cols).sum() / right.sum() < image.shape[-1] / 2


def test_flipped_items_come_with_swapped_reports_and_maps(phantom):
    manifest, root = phantom
    cases = manifest.load_manifest(root)["cases"]
    plain = SegmentationDataset(root, cases[:2], "planar", site_maps=True, seed=0)
    flipped = SegmentationDataset(
        root, cases[:2], "planar", site_maps=True, augment=True, flip_prob=1.0, seed=0
    )
    a, b = plain[0], flipped[0]
    assert b["text"] == swap_sides(a["text"])
    assert torch.equal(b["label"], a["label"].flip(-1))
    assert torch.equal(b["site_maps"], a["site_maps"].flip(-1))
    # the image differs by the count-scaling augmentation only: same pattern, mirrored
    ratio = b["image"][0] / a["image"][0].flip(-1).clamp_min(1e-6)
    assert float(ratio[a["image"][0].flip(-1) > 0.1].std()) < 1e-4


def test_dropped_reports_drop_their_site_maps():
    class Tok:
        def __call__(self, texts, **_):
            n = len(texts)
            return {"input_ids": torch.ones(n, 3, dtype=torch.long),
                    "attention_mask": torch.ones(n, 3, dtype=torch.long)}  # fmt: skip

    item = {"image": torch.zeros(2, 4, 4), "label": torch.zeros(4, 4, dtype=torch.long),
            "extent": torch.zeros(2, 2), "case_classes": torch.zeros(2), "text": "考虑骨转移",
            "case_id": "c", "slice": -1, "site_maps": torch.ones(2, 4, 4)}  # fmt: skip
    batch = TextCollate(Tok(), text_dropout=1.0)([item, item])
    assert not batch["has_text"].any() and not batch["site_maps"].any()
    batch = TextCollate(Tok(), text_dropout=0.0)([item])
    assert batch["site_maps"].sum() == 32


def test_a_report_replaced_by_a_readers_miss_is_read_but_not_grounded():
    """train.called_normal_rate: the network reads the normal report of a reader who saw
    nothing while the labels keep the lesions; the item is not grounded (its report is not its
    own) and names no site. The text-dropout draws do not move (a stream of their own), and a
    rate outside [0, 1] is refused, in the collate and in the config."""
    from boneread_ml.data.datasets import called_normal
    from boneread_ml.training.config import load_config

    seen = []

    class Tok:
        def __call__(self, texts, **_):
            seen.append(list(texts))
            n = len(texts)
            return {"input_ids": torch.ones(n, 3, dtype=torch.long),
                    "attention_mask": torch.ones(n, 3, dtype=torch.long)}  # fmt: skip

    report = "临床病史：肺癌。\n检查所见：第3腰椎见异常放射性浓聚，考虑骨转移。\n诊断意见：骨转移。"
    item = {"image": torch.zeros(2, 4, 4), "label": torch.ones(4, 4, dtype=torch.long),
            "extent": torch.zeros(2, 2), "case_classes": torch.tensor([0.0, 1.0]), "text": report,
            "case_id": "c", "slice": -1, "site_maps": torch.ones(2, 4, 4)}  # fmt: skip
    batch = TextCollate(Tok(), called_normal_rate=1.0)([item, item])
    assert seen[-1] == [called_normal(report)] * 2 and "骨转移" not in seen[-1][0].split("所见")[1]
    assert not batch["has_text"].any() and not batch["site_maps"].any()
    assert batch["label"].sum() == 32  # the lesions stay in the target

    def dropped(rate: float) -> list[bool]:
        collate = TextCollate(Tok(), text_dropout=0.3, seed=5, called_normal_rate=rate)
        for _ in range(20):
            collate([item] * 4)
        return [t == "" for texts in seen[-20:] for t in texts]

    plain, mixed = dropped(0.0), dropped(0.5)
    assert plain == mixed and any(plain)  # the same reports dropped
    assert sum(t == called_normal(report) for texts in seen[-20:] for t in texts) > 10

    with pytest.raises(ValueError, match=r"called_normal_rate must be within \[0, 1\], got 1.5"):
        TextCollate(Tok(), called_normal_rate=1.5)
    with pytest.raises(ValueError, match="train.called_normal_rate must be a number within"):
        load_config(None, {"train": {"called_normal_rate": "often"}})


def _tiny(site_maps: bool, text: bool = True) -> MTUNet:
    torch.manual_seed(0)
    encoder = (
        ReportEncoder.small(50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=32, max_position_embeddings=32)
        if text
        else None
    )  # fmt: skip
    return MTUNet(
        2, 2, 3, features=(8, 8, 16, 16, 32, 8), text_encoder=encoder, site_maps=site_maps
    )


def test_mt_unet_reads_the_site_maps():
    net = _tiny(True).eval()
    assert net.conv_0.conv_0.conv.in_channels == 4
    image = torch.rand(1, 2, 32, 32)
    ids, mask = torch.ones(1, 5, dtype=torch.long), torch.ones(1, 5, dtype=torch.long)
    maps = torch.zeros(1, 2, 32, 32)
    maps[:, 1, 8:16, 8:16] = 1.0
    with torch.no_grad():
        none = net(image, ids, mask)
        zeros = net(image, ids, mask, site_maps=torch.zeros_like(maps))
        some = net(image, ids, mask, site_maps=maps)
    assert torch.allclose(none, zeros)
    assert not torch.allclose(none, some)
    with pytest.raises(ValueError, match="site maps"):
        net(image, ids, mask, site_maps=torch.zeros(1, 2, 16, 16))
    # the no-text ablation from the same config stays the 2-channel image network
    assert _tiny(True, text=False).conv_0.conv_0.conv.in_channels == 2


def test_tolerant_dice_forgives_one_pixel_of_outline():
    truth = np.zeros((12, 12), bool)
    truth[4:8, 4:8] = True
    shifted = np.roll(truth, 1, axis=1)
    assert dice(shifted, truth) == pytest.approx(0.75)
    assert tolerant_dice(shifted, truth, 1) == pytest.approx(1.0)
    assert tolerant_dice(shifted, truth, 0) == pytest.approx(0.75)
    far = np.roll(truth, 6, axis=0)
    assert tolerant_dice(far, truth, 1) == pytest.approx(0.0)
    assert np.isnan(tolerant_dice(np.zeros_like(truth), np.zeros_like(truth)))
    label = truth.astype(np.uint8) * 2
    row = tolerant_case_metrics(np.roll(label, 1, axis=1), label)
    assert row["metastatic_dice_tol1"] == pytest.approx(1.0) and np.isnan(row["benign_dice_tol1"])
    assert row["mean_class_dice_tol1"] == pytest.approx(1.0)


def test_lesion_recalibration_brings_overconfident_probabilities_down():
    rng = np.random.default_rng(0)
    # raw probabilities all near 1; small blobs are mostly wrong, large ones mostly right
    sizes = rng.integers(5, 80, 400)
    right = rng.random(400) < np.clip(sizes / 80.0, 0.05, 0.95)
    raw = 1.0 - rng.random(400) * 1e-3
    cal = fit_lesion_calibration(list(zip(raw, sizes, right, strict=True)))
    assert cal is not None and cal["lesions"] == 400
    p = np.array([apply_lesion_calibration(cal, a, n) for a, n in zip(raw, sizes, strict=True)])
    assert 0.0 < p.min() < p.max() < 1.0
    assert abs(p.mean() - right.mean()) < 0.05
    assert p[sizes > 60].mean() > p[sizes < 20].mean()
    assert apply_lesion_calibration(None, 0.99, 10) == 0.99
    assert fit_lesion_calibration([(0.9, 10, True), (0.8, 12, True)]) is None


def test_site_prior_moves_the_class_where_the_report_names_it():
    torch.manual_seed(0)
    encoder = ReportEncoder.small(50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=32, max_position_embeddings=32)  # fmt: skip
    net = MTUNet(2, 2, 3, features=(8, 8, 16, 16, 32, 8), text_encoder=encoder,
                 site_maps=True, site_prior=4.0).eval()  # fmt: skip
    assert net.site_prior_weight in net.fusion_gates()
    image = torch.rand(1, 2, 32, 32)
    ids, mask = torch.ones(1, 5, dtype=torch.long), torch.ones(1, 5, dtype=torch.long)
    met, ben = torch.zeros(1, 2, 32, 32), torch.zeros(1, 2, 32, 32)
    met[:, 1, 8:16, 8:16] = 1.0
    ben[:, 0, 8:16, 8:16] = 1.0
    with torch.no_grad():
        as_met = net(image, ids, mask, site_maps=met)
        as_ben = net(image, ids, mask, site_maps=ben)
    margin_met = as_met[0, 2, 10:14, 10:14] - as_met[0, 1, 10:14, 10:14]
    margin_ben = as_ben[0, 2, 10:14, 10:14] - as_ben[0, 1, 10:14, 10:14]
    assert bool((margin_met - margin_ben > 3.0).all())
