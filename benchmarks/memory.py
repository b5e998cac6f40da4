"""Peak memory of a web worker serving the largest request each bound allows.

For each kind of request, a fresh gunicorn (one sync worker, the embedded SQLite set-up in a
temporary folder) serves that one request; the worker's peak resident memory (VmHWM from
/proc) is read after the answer. Kinds:

* ``wado_frames``: WADO-RS frames, the longest frame list allowed (WADO_MAX_FRAMES_PER_REQUEST)
  from the largest instance allowed (ARCHIVE_MAX_INSTANCE_SIZE);
* ``rendered``: a rendered frame of that instance at the largest output size;
* ``zip_upload``: a zip at the compression-ratio limit, unpacking to ``--zip-mb`` of DICOM;
* ``stow``: STOW-RS of the largest instance allowed;
* ``json_body``: a JSON body of DATA_UPLOAD_MAX_MEMORY_SIZE bytes.

Goal: every peak at most 512 MB. Run::

    .venv/bin/python benchmarks/memory.py     # writes benchmarks/results/memory.json
    .venv/bin/python benchmarks/memory.py --instance-mb 32 --zip-mb 64   # a quick look
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import BACKEND, PY, REPO, Servers, free_port, wait_http  # noqa: E402

NM_STORAGE = "1.2.840.10008.5.1.4.1.1.20"
GOAL_MB = 512


def nm_multiframe(*, frames: int, size: int, fill: str = "noise") -> bytes:
    """Part 10 bytes of an NM multi-frame image of frames x size x size 16-bit pixels."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    uid = generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = NM_STORAGE
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = NM_STORAGE, uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientID, ds.PatientName, ds.Modality = f"MEM{uuid.uuid4().hex[:6]}", "MEMORY^TEST", "NM"
    ds.StudyDate, ds.AccessionNumber, ds.SeriesNumber, ds.InstanceNumber = "20260101", "M1", 1, 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = size
    ds.NumberOfFrames = frames
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    if fill == "sparse":  # compresses about 400:1 (near the zip ratio limit)
        rng = np.random.default_rng(0)
        pixels = np.zeros(frames * size * size, dtype=np.uint16)
        pixels[:: 1024 + 1] = rng.integers(1, 1000, pixels[:: 1024 + 1].size, dtype=np.uint16)
        ds.PixelData = pixels.tobytes()
    else:
        rng = np.random.default_rng(0)
        ds.PixelData = rng.integers(0, 1000, (frames, size, size), dtype=np.uint16).tobytes()
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def django_env(work: Path) -> dict[str, str]:
    env = {**os.environ, "BONEREAD_VAR_DIR": str(work), "LOG_LEVEL": "WARNING"}
    env["PYTHONPATH"] = os.pathsep.join([str(BACKEND), str(REPO / "ml")])
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "MEDIA_ROOT", "SECRET_KEY"):
        env.pop(key, None)
    env["INFERENCE_AUTO_RUN"] = "false"
    return env


def setting(env: dict[str, str], name: str) -> int:
    out = subprocess.run(
        [PY, "manage.py", "shell", "-c", f"from django.conf import settings; print(settings.{name})"],
        cwd=BACKEND, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return int(out.split()[-1])


def worker_pid(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children")
        pids = children.read_text().split() if children.exists() else []
        if pids:
            return int(pids[0])
        time.sleep(0.2)
    raise SystemExit("gunicorn started no worker")


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no VmHWM for {pid}")


def send(url: str, *, token: str, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(
        url, data=data, headers={"Authorization": f"Token {token}", **(headers or {})}
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            size = sum(len(chunk) for chunk in iter(lambda: response.read(1 << 20), b""))
            status = response.status
    except urllib.error.HTTPError as exc:
        status, size = exc.code, len(exc.read())
    return status, size, time.perf_counter() - started


def measure(work: Path, env: dict[str, str], token: str, request: dict) -> dict:
    servers = Servers()
    port = free_port()
    log = (work / "gunicorn.log").open("ab")
    master = servers.start(
        [PY, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--timeout", "600"],
        cwd=BACKEND, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/api/auth/csrf", 60)
        pid = worker_pid(master.pid)
        send(f"{base}/api/studies/", token=token)  # imports every app's views: the baseline
        baseline = peak_mb(pid)
        status, size, seconds = send(base + request["path"], token=token, **request["kwargs"])
        return {
            "status": status,
            "response_bytes": size,
            "seconds": round(seconds, 2),
            "baseline_peak_mb": round(baseline, 1),
            "peak_rss_mb": round(peak_mb(pid), 1),
        }
    finally:
        servers.stop()


def multipart_related(parts: list[bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = b"".join(
        b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n" + p + b"\r\n"
        for p in parts
    )
    body += b"--" + boundary.encode() + b"--\r\n"
    return body, f'multipart/related; type="application/dicom"; boundary={boundary}'


def multipart_form(name: str, filename: str, payload: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/zip\r\n\r\n'
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instance-mb", type=int, default=0, help="0: ARCHIVE_MAX_INSTANCE_SIZE")
    parser.add_argument("--zip-mb", type=int, default=1024, help="unpacked size of the zip")
    parser.add_argument("--frame-size", type=int, default=512)
    parser.add_argument("--kinds", nargs="*", help="only these kinds (default: all)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "memory.json")
    args = parser.parse_args(argv)
    results: dict = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="boneread-memory-bench-") as tmp:
        # (the zip's compression ratio is printed below, to show it is within the limit)
        work = Path(tmp)
        env = django_env(work)
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=BACKEND, env=env, check=True)
        limits = {
            name: setting(env, name)
            for name in (
                "ARCHIVE_MAX_INSTANCE_SIZE",
                "WADO_MAX_FRAMES_PER_REQUEST",
                "WADO_RENDERED_MAX_SIZE",
                "DATA_UPLOAD_MAX_MEMORY_SIZE",
                "ARCHIVE_ZIP_MAX_RATIO",
                "ARCHIVE_BATCH_MAX_BYTES",
                "WADO_RENDER_MAX_SOURCE_PIXELS",
            )
        }
        instance_bytes = (args.instance_mb << 20) or limits["ARCHIVE_MAX_INSTANCE_SIZE"]
        frame_bytes = args.frame_size * args.frame_size * 2
        frames = max(1, (instance_bytes - 4096) // frame_bytes)
        big = nm_multiframe(frames=frames, size=args.frame_size)
        big_path = work / "big.dcm"
        big_path.write_bytes(big)
        # The largest frame rendered: WADO_RENDER_MAX_SOURCE_PIXELS in one square frame.
        edge = int(limits["WADO_RENDER_MAX_SOURCE_PIXELS"] ** 0.5)
        (work / "wide.dcm").write_bytes(nm_multiframe(frames=1, size=edge))
        token = subprocess.run(
            [PY, "manage.py", "shell", "-c",
             "from accounts.models import User; from accounts.tokens import api_token_create;"
             "from studies.services import instance_ingest;"
             "u = User.objects.create(username='bench', role='admin', is_superuser=True);"
             f"r = instance_ingest(file=open({str(big_path)!r}, 'rb'), source='upload');"
             "assert r.status == 'stored', r.reason;"
             "i = r.instance; s = i.series;"
             f"w = instance_ingest(file=open({str(work / 'wide.dcm')!r}, 'rb'), source='upload');"
             "assert w.status == 'stored', w.reason; j = w.instance;"
             "print(j.series.study.study_instance_uid, j.series.series_instance_uid,"
             " j.sop_instance_uid);"
             "print(s.study.study_instance_uid, s.series_instance_uid, i.sop_instance_uid);"
             "print(api_token_create(user=u, name='bench').key)"],
            cwd=BACKEND, env=env, check=True, capture_output=True, text=True,
        ).stdout.strip().splitlines()  # fmt: skip
        study_uid, series_uid, sop_uid = token[-2].split()
        wide_url = "/dicomweb/studies/{}/series/{}/instances/{}".format(*token[-3].split())
        key = token[-1]
        instance_url = f"/dicomweb/studies/{study_uid}/series/{series_uid}/instances/{sop_uid}"
        frame_list = ",".join(
            str(1 + (i * 7) % frames) for i in range(limits["WADO_MAX_FRAMES_PER_REQUEST"])
        )
        stow_body, stow_type = multipart_related(
            [nm_multiframe(frames=frames, size=args.frame_size)]
        )
        # The zip: members of zeros, each compressing to about the ratio limit, unpacking to
        # --zip-mb in all.
        member = nm_multiframe(frames=max(1, (16 << 20) // frame_bytes), size=args.frame_size,
                               fill="sparse")  # fmt: skip
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for index in range(max(1, (args.zip_mb << 20) // len(member))):
                zf.writestr(
                    f"{index}.dcm", member.replace(b"MEMORY^TEST", b"MEMORY^T%03d" % (index % 1000))
                )
        zip_body, zip_type = multipart_form("files", "big.zip", archive.getvalue())
        with zipfile.ZipFile(archive) as zf:
            info = zf.infolist()[0]
            print(f"zip member ratio {info.file_size / info.compress_size:.0f}:1", flush=True)
        json_body = (
            b'{"events": ['
            + b'"x",' * ((limits["DATA_UPLOAD_MAX_MEMORY_SIZE"] - 40) // 4)
            + b'"x"]}'
        )
        requests = {
            "wado_frames": {
                "path": f"{instance_url}/frames/{frame_list}",
                "kwargs": {},
                "what": f"{limits['WADO_MAX_FRAMES_PER_REQUEST']} frames of a "
                f"{len(big) >> 20} MB instance ({frames} frames of {args.frame_size}^2)",
            },
            "rendered": {
                "path": f"{instance_url}/frames/{frames}/rendered",
                "kwargs": {"headers": {"Accept": "image/png"}},
                "what": f"the last frame of that instance as PNG (<= {limits['WADO_RENDERED_MAX_SIZE']} px)",
            },
            "rendered_largest_frame": {
                "path": f"{wide_url}/rendered",
                "kwargs": {"headers": {"Accept": "image/png"}},
                "what": f"a {edge} x {edge} frame (WADO_RENDER_MAX_SOURCE_PIXELS) as PNG",
            },
            "stow": {
                "path": "/dicomweb/studies",
                "kwargs": {"data": stow_body, "headers": {"Content-Type": stow_type}},
                "what": f"STOW-RS of one {len(stow_body) >> 20} MB instance",
            },
            "zip_upload": {
                "path": "/api/studies/upload",
                "kwargs": {"data": zip_body, "headers": {"Content-Type": zip_type}},
                "what": f"a {len(zip_body) >> 10} KB zip unpacking to about {args.zip_mb} MB",
            },
            "json_body": {
                "path": "/api/reading-events/",
                "kwargs": {"data": json_body, "headers": {"Content-Type": "application/json"}},
                "what": f"a {len(json_body) >> 20} MB JSON body",
            },
        }
        for name, request in requests.items():
            if args.kinds and name not in args.kinds:
                continue
            print(f"{name}: {request['what']} ...", flush=True)
            results[name] = {"request": request["what"], **measure(work, env, key, request)}
            print(f"  {results[name]}", flush=True)
    if args.kinds and args.out.exists():  # a partial run updates the recorded one
        results = {**json.loads(args.out.read_text())["requests"], **results}
    worst = max(r["peak_rss_mb"] for r in results.values())
    report = {
        "goal_peak_rss_mb": GOAL_MB,
        "worst_peak_rss_mb": worst,
        "meets_goal": worst <= GOAL_MB,
        "limits": limits,
        "requests": results,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": list(load_before),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "requests"}, indent=2))
    return 0 if report["meets_goal"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
