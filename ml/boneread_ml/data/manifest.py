"""Generate a synthetic data set and read it back: the data contract of ``boneread-ml synth``.

Layout of a generated folder::

    manifest.json                 kind, seed, generator_version, params, cases[...]
    arrays/<case_id>.npz          image, label, instance, bone, pixel_spacing_mm | spacing_mm
    dicom/<case_id>/*.dcm         NM (and CT) images + ground-truth SEG

See docs/synthetic-data.md for the meaning of every field.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import multiprocessing
import os
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from boneread_ml.data import dicom_io, reports
from boneread_ml.data.phantom import lesions, planar, spectct

log = logging.getLogger(__name__)

GENERATOR_VERSION = "1.0.0"
KINDS = {"planar": 1, "spectct": 2}
N_FOLDS = 5
FOLLOW_UP_RATE = 0.1  # fraction of cases that are a later scan of an earlier patient
DEFAULT_INFORMATIVENESS = 0.7


def _check_args(kind: str, cases: int, seed: int, informativeness: float, workers: int) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
    if isinstance(cases, bool) or not isinstance(cases, int | np.integer) or cases < 1:
        raise ValueError(f"cases must be a positive integer, got {cases!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(informativeness, int | float) or not 0.0 <= float(informativeness) <= 1.0:
        raise ValueError(f"informativeness must be a number within [0, 1], got {informativeness!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an ``.npz`` readable by ``np.load``: fast deflate, fixed timestamps (byte-stable)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            if hasattr(zipfile.ZipInfo, "compress_level"):  # Python >= 3.13
                info.compress_level = 1
            else:
                info._compresslevel = 1
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(arr), allow_pickle=False)


def _plan_patients(kind: str, cases: int, seed: int) -> tuple[list[dict], list[int]]:
    """Patients (with demographics and fold) and the patient index of each case."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(KINDS[kind], 0)))
    patients: list[dict] = []
    case_patient: list[int] = []
    for _ in range(cases):
        if patients and rng.random() < FOLLOW_UP_RATE:
            case_patient.append(int(rng.integers(len(patients))))
            continue
        sex = "M" if rng.random() < 0.5 else "F"
        age = int(np.clip(rng.normal(62, 11), 28, 88))
        idx = len(patients)
        patients.append(
            {
                "index": idx,
                "sex": sex,
                "age": age,
                "patient_id": f"BR{KINDS[kind]}S{seed}P{idx:05d}",
                "name": dicom_io.chinese_name(rng, sex),
                "weight_kg": round(
                    float(np.clip(rng.normal(68 if sex == "M" else 58, 10), 38, 120)), 1
                ),
            }
        )
        case_patient.append(idx)
    order = rng.permutation(len(patients))
    for rank, p in enumerate(order):
        patients[int(p)]["fold"] = rank % N_FOLDS
    return patients, case_patient


def _study_meta(
    rng: np.random.Generator,
    kind: str,
    seed: int,
    case_id: str,
    patient: dict,
    visit: int,
    height_mm: float,
) -> dict:
    # per-patient dates from the patient's own stream: the first study, and a birthday
    # 1-150 days before its anniversary, so that yearly follow-ups are exactly one year older
    prng = np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(KINDS[kind], 3, patient["index"]))
    )
    first = datetime.date(2023, 1, 2) + datetime.timedelta(days=int(prng.integers(0, 730)))
    before = int(prng.integers(1, 151))
    anniversary = first.replace(day=28) if (first.month, first.day) == (2, 29) else first
    birth = anniversary.replace(year=first.year - patient["age"]) - datetime.timedelta(days=before)
    day = first + datetime.timedelta(days=365 * visit + (int(rng.integers(0, 30)) if visit else 0))
    date = day.strftime("%Y%m%d")
    age = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    hour = int(rng.integers(8, 16))
    minute = int(rng.integers(0, 60))
    inj_hour = max(hour - 3, 5)
    uid_key = f"boneread-synth/{GENERATOR_VERSION}/{kind}/{seed}/{case_id}"
    return {
        "uid_key": uid_key,
        "study_uid": dicom_io.uid(uid_key, "study"),
        "patient_name": patient["name"],
        "patient_id": patient["patient_id"],
        "birth_date": birth.strftime("%Y%m%d"),
        "sex": patient["sex"],
        "age": age,
        "weight_kg": patient["weight_kg"],
        "height_m": height_mm / 1000.0,
        "study_date": date,
        "study_time": f"{hour:02d}{minute:02d}00",
        "series_time": f"{hour:02d}{minute:02d}30",
        "injection_time": f"{inj_hour:02d}{minute:02d}00",
        "dose_mbq": float(rng.choice([555.0, 740.0, 814.0, 925.0])),
        "accession": f"NM{date}{int(hashlib.sha256(uid_key.encode()).hexdigest()[:10], 16) % 10**6:06d}",
        "study_id": f"{int(rng.integers(1, 10**6))}",
        "referring": dicom_io.PHYSICIANS[int(rng.integers(len(dicom_io.PHYSICIANS)))],
        "study_description": "全身骨显像 Whole-body bone scan"
        if kind == "planar"
        else "骨SPECT/CT Bone SPECT/CT",
        "body_part": "WHOLEBODY" if kind == "planar" else "CHEST",
        "model_name": "Phantom dual-head gamma camera" if kind == "planar" else "Phantom SPECT/CT",
        "station": "NM01" if kind == "planar" else "SPECTCT01",
        "device_serial": f"SYN{KINDS[kind]}{seed % 97:02d}",
    }


def _generate_case(task: dict) -> dict:
    """Generate, write and describe one case (runs in a worker process)."""
    kind, seed, i, out = task["kind"], task["seed"], task["index"], Path(task["out"])
    patient = task["patient"]
    case_id = task["case_id"]
    image_rng, report_rng, meta_rng = (
        np.random.default_rng(s)
        for s in np.random.SeedSequence(seed, spawn_key=(KINDS[kind], 1, i)).spawn(3)
    )
    anatomy_rng = np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(KINDS[kind], 2, patient["index"]))
    )
    age = patient["age"] + task["visit"]
    if kind == "planar":
        pt = planar.sample_patient(anatomy_rng, patient["sex"], age)
        plan = lesions.plan_case(image_rng, planar.AVAILABLE_REGIONS, patient["sex"], max_mets=12)
        result = planar.render_planar(image_rng, pt, plan)
        extra = {"kidney_uptake": result["acquisition"]["kidney_uptake"]}
    else:
        pt = spectct.sample_patient(anatomy_rng, patient["sex"], age)
        anat = spectct.prepare_anatomy(image_rng, pt)
        plan = lesions.plan_case(
            image_rng, spectct.available_regions(anat), patient["sex"], max_mets=6
        )
        result = spectct.render_spectct(image_rng, pt, anat, plan)
        extra = {"bed": anat["bed"]}
    records = result["lesion_records"]
    clinical = {
        "cancer": plan.cancer[0] if plan.cancer else None,
        "trauma": plan.trauma,
        "joint_pain": plan.joint_pain,
    }
    report = reports.make_report(
        report_rng,
        records,
        {
            "cancer": plan.cancer,
            "trauma": plan.trauma,
            "joint_pain": plan.joint_pain,
            "sex": patient["sex"],
            **extra,
        },
        task["informativeness"],
        kind,
    )
    arrays = {k: result[k] for k in ("image", "label", "instance", "bone")}
    if kind == "planar":
        arrays["pixel_spacing_mm"] = result["pixel_spacing_mm"]
    else:
        arrays["spacing_mm"] = result["spacing_mm"]
    rel_arrays = f"arrays/{case_id}.npz"
    save_npz(out / rel_arrays, arrays)
    rel_dicom = f"dicom/{case_id}"
    meta = _study_meta(meta_rng, kind, seed, case_id, patient, task["visit"], pt.height_mm)
    if task["dicom"]:
        if kind == "planar":
            dicom_io.write_planar(
                out / rel_dicom, result["image"], result["label"], meta, result["pixel_spacing_mm"]
            )
        else:
            dicom_io.write_spectct(
                out / rel_dicom, result["spect"], spectct.SPECT_SPACING_MM, result["image"][1], spectct.CT_SPACING_MM,
                result["label"], meta, anat["z_centre_mm"],
            )  # fmt: skip
    for r in records:
        r["peak_counts"] = round(float(r["peak_counts"]), 1)
    return {
        "case_id": case_id,
        "patient_id": patient["patient_id"],
        "fold": patient["fold"],
        "visit": task["visit"],
        "scenario": plan.scenario,
        "primary_cancer": clinical["cancer"],
        "clinical": clinical,
        "report_context": extra,
        "sex": patient["sex"],
        "age": age,
        "arrays": rel_arrays,
        "dicom_dir": rel_dicom if task["dicom"] else None,
        "study": {
            "study_instance_uid": meta["study_uid"],
            "accession_number": meta["accession"],
            "study_date": meta["study_date"],
            "patient_name": meta["patient_name"],
            "birth_date": meta["birth_date"],
            "age": meta["age"],
        },
        "acquisition": result["acquisition"],
        "report": report,
        "lesions": records,
    }


def _remove_previous(out: Path) -> None:
    """Delete the files a previous run listed in ``out/manifest.json`` (and nothing else)."""
    path = out / "manifest.json"
    if not path.is_file():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log.warning("%s is not a readable manifest; leaving the folder as it is", path)
        return
    for case in old.get("cases", []):
        arrays = out / str(case.get("arrays", ""))
        if arrays.is_file() and arrays.parent.name == "arrays":
            arrays.unlink()
        if case.get("dicom_dir"):
            folder = out / str(case["dicom_dir"])
            if folder.is_dir() and folder.parent.name == "dicom":
                for f in folder.glob("*.dcm"):
                    f.unlink()
                if not any(folder.iterdir()):
                    folder.rmdir()
    path.unlink()


def rewrite_report(manifest: dict, case: dict, informativeness: float) -> dict:
    """The report ``generate`` would have written for this case at another informativeness.

    Images do not depend on the informativeness (the report has its own random
    stream), so a sweep over it only needs new reports.

    Args:
        manifest: The loaded manifest (for kind and seed).
        case: One of its case entries.
        informativeness: Probability (0..1) that a lesion event is described.

    Returns:
        A report dict like ``case["report"]``.
    """
    kind, seed = manifest["kind"], manifest["seed"]
    index = int(case["case_id"].rsplit("-", 1)[1])
    report_rng = np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(KINDS[kind], 1, index)).spawn(3)[1]
    )
    cancer = next((c for c in lesions.CANCERS if c[0] == case["clinical"]["cancer"]), None)
    info = {
        "cancer": cancer,
        "trauma": case["clinical"]["trauma"],
        "joint_pain": case["clinical"]["joint_pain"],
        "sex": case["sex"],
        **case["report_context"],
    }
    return reports.make_report(report_rng, case["lesions"], info, informativeness, kind)


def generate(
    kind: str,
    cases: int,
    seed: int,
    out: str | os.PathLike,
    *,
    informativeness: float = DEFAULT_INFORMATIVENESS,
    dicom: bool = True,
    workers: int = 1,
    progress: bool = False,
) -> Path:
    """Generate a synthetic data set.

    Args:
        kind: ``"planar"`` (whole-body anterior/posterior) or ``"spectct"``.
        cases: Number of cases (>= 1).
        seed: Non-negative seed; the same seed and knobs give identical pixel
            data, masks and reports.
        out: Output folder (created). The files a previous run listed in its
            manifest are removed first; other files are left alone.
        informativeness: Probability (0..1) that a report describes a lesion
            with its site and class; the rest are omitted and recorded.
        dicom: Also write DICOM (images + SEG).  Arrays are always written.
        workers: Worker processes (cases are independent; the output does not
            depend on the number of workers).
        progress: Show a progress bar.

    Returns:
        Path of the output folder.

    Raises:
        ValueError: On an invalid argument.
    """
    _check_args(kind, cases, seed, informativeness, workers)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out must be a directory, but {out} is a file")
    _remove_previous(out)
    (out / "arrays").mkdir(parents=True, exist_ok=True)
    if dicom:
        (out / "dicom").mkdir(exist_ok=True)
    patients, case_patient = _plan_patients(kind, cases, seed)
    visits: dict[int, int] = {}
    tasks = []
    for i, p in enumerate(case_patient):
        visit = visits.get(p, 0)
        visits[p] = visit + 1
        tasks.append(
            {
                "kind": kind,
                "seed": int(seed),
                "index": i,
                "case_id": f"{kind}-s{seed}-{i:04d}",
                "patient": patients[p],
                "visit": visit,
                "out": str(out),
                "informativeness": float(informativeness),
                "dicom": bool(dicom),
            }
        )
    log.info(
        "generating %d %s cases (seed %d, %d worker(s)) into %s", cases, kind, seed, workers, out
    )
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=cases, desc=f"synth {kind}", unit="case")
    entries = []
    if workers == 1:
        for t in tasks:
            entries.append(_generate_case(t))
            if bar:
                bar.update()
    else:
        # "spawn", not fork: the caller may already run threads (torch/OpenMP pools, a web
        # server, a test runner), and a forked child of such a process can hang.
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
            for entry in pool.map(_generate_case, tasks, chunksize=1):
                entries.append(entry)
                if bar:
                    bar.update()
    if bar:
        bar.close()
    params: dict[str, Any] = {
        "informativeness": float(informativeness),
        "dicom": bool(dicom),
        "n_folds": N_FOLDS,
    }
    if kind == "planar":
        params.update(
            image_shape=[2, planar.pa.ROWS, planar.pa.COLS],
            pixel_spacing_mm=[planar.pa.PIXEL_MM] * 2,
        )
    else:
        params.update(
            image_shape=[2, *spectct.CT_SHAPE],
            spacing_mm=list(spectct.CT_SPACING_MM),
            spect_shape=list(spectct.SPECT_SHAPE),
            spect_spacing_mm=list(spectct.SPECT_SPACING_MM),
        )
    manifest = {
        "kind": kind,
        "seed": int(seed),
        "generator_version": GENERATOR_VERSION,
        "params": params,
        "labels": {"0": "background", "1": "benign", "2": "metastatic"},
        "cases": entries,
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return out


def load_manifest(root: str | os.PathLike) -> dict:
    """Read ``manifest.json`` of a generated folder.

    Raises:
        ValueError: If the folder has no manifest.
    """
    path = Path(root) / "manifest.json"
    if not path.is_file():
        raise ValueError(f"{root} has no manifest.json; generate one with `boneread-ml synth`")
    return json.loads(path.read_text(encoding="utf-8"))


def load_case_arrays(root: str | os.PathLike, case: dict | str) -> dict[str, np.ndarray]:
    """Load the arrays of one case (a manifest entry or a case id).

    Raises:
        ValueError: If the case id is not in the manifest.
    """
    if isinstance(case, str):
        match = [c for c in load_manifest(root)["cases"] if c["case_id"] == case]
        if not match:
            raise ValueError(f"case {case!r} is not in {root}/manifest.json")
        case = match[0]
    with np.load(Path(root) / case["arrays"]) as data:
        return {k: data[k] for k in data.files}
