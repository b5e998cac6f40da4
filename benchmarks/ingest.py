"""Ingest throughput: BoneRead vs Orthanc, same machine, same series, same two paths.

A 300-slice 512 x 512 16-bit CT series (about 150 MB) is sent

* through DICOMweb STOW-RS (multipart/related, ``--batch`` instances per request, one client),
* through DICOM C-STORE (dcmtk's ``storescu``, one association),

to BoneRead (gunicorn + ``manage.py dicom_scp``, a fresh embedded SQLite database and media folder,
or $DATABASE_URL when set) and to Orthanc (Debian packages ``orthanc`` and ``orthanc-dicomweb``,
installed by this script when missing, started on loopback with a temporary configuration and
storage). Each system starts empty; every repetition sends a series with new UIDs. The figure is
instances per second and the ratio BoneRead / Orthanc (>= 1.0: at least as fast). Both servers run
side by side and the sends alternate between them, so that both see the same machine load.

Run::

    .venv/bin/python benchmarks/ingest.py              # writes benchmarks/results/ingest.json
    .venv/bin/python benchmarks/ingest.py --slices 60 --repeats 1   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

REPO = Path(__file__).resolve().parents[1]
BACKEND = REPO / "backend"
PY = sys.executable
ORTHANC_PLUGIN_DIRS = ["/usr/share/orthanc/plugins", "/usr/lib/orthanc/plugins"]


# --- the series ----------------------------------------------------------------------------


def ct_series(folder: Path, slices: int, size: int = 512) -> list[Path]:
    """Write a CT series with fresh UIDs: a noisy ellipse phantom, HU = stored - 1024."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    body = ((yy - size / 2) / (size * 0.38)) ** 2 + ((xx - size / 2) / (size * 0.45)) ** 2 < 1
    base = np.where(body, 1064, 24).astype(np.int32)
    study, series = generate_uid(), generate_uid()
    paths = []
    for k in range(slices):
        pixels = np.clip(base + rng.normal(0, 20, base.shape), 0, 4095).astype(np.uint16)
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        sop = generate_uid()
        ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.file_meta.MediaStorageSOPInstanceUID = sop
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, sop
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.PatientName, ds.PatientID = "BENCH^CT=基准^测试", "BENCH-1"
        ds.StudyDate, ds.StudyTime, ds.Modality = "20260101", "120000", "CT"
        ds.SeriesNumber, ds.InstanceNumber = 1, k + 1
        ds.ImagePositionPatient = [-250.0, -250.0, -1.0 * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.SliceThickness = [0.98, 0.98], 1.0
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.Rows = ds.Columns = size
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = pixels.tobytes()
        path = folder / f"CT{k + 1:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


# --- the two ways of sending ---------------------------------------------------------------


def stow(url: str, paths: list[Path], batch: int, headers: dict[str, str]) -> float:
    """POST the files in multipart/related batches; seconds from the first byte to the last answer."""
    bodies = []
    for start in range(0, len(paths), batch):
        boundary = uuid.uuid4().hex
        chunks = []
        for path in paths[start : start + batch]:
            chunks.append(f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode())
            chunks.append(path.read_bytes())
            chunks.append(b"\r\n")
        chunks.append(f"--{boundary}--\r\n".encode())
        bodies.append((boundary, b"".join(chunks)))
    started = time.perf_counter()
    for boundary, body in bodies:
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
                "Accept": "application/dicom+json",
                **headers,
            },
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            if response.status != 200:
                raise RuntimeError(f"STOW-RS to {url} answered {response.status}")
            response.read()
    return time.perf_counter() - started


def cstore(port: int, folder: Path, called_ae: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        ["storescu", "-aec", called_ae, "+sd", "127.0.0.1", str(port), str(folder)],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"storescu to port {port} failed: {result.stderr[-2000:]}")
    return elapsed


# --- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(request, timeout=5):
                return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def wait_echo(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run(["echoscu", "127.0.0.1", str(port)], capture_output=True).returncode == 0:
            return
        time.sleep(0.3)
    raise RuntimeError(f"no C-ECHO answer on port {port} within {timeout:.0f} s")


class Servers:
    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []

    def start(self, command: list[str], **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(command, start_new_session=True, **kwargs)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, 15)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, 9)
        self.processes.clear()


def boneread_start(servers: Servers, work: Path, workers: int) -> dict:
    env = {**os.environ, "BONEREAD_VAR_DIR": str(work), "LOG_LEVEL": "WARNING"}
    env.setdefault("PYTHONPATH", os.pathsep.join([str(BACKEND), str(REPO / "ml")]))
    if "DATABASE_URL" not in os.environ:
        env.pop("DATABASE_URL", None)
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=BACKEND, env=env, check=True)
    token = subprocess.run(
        [PY, "manage.py", "shell", "-c",
         "from accounts.models import User; from rest_framework.authtoken.models import Token;"
         "u, _ = User.objects.get_or_create(username='bench', defaults={'is_superuser': True});"
         "print(Token.objects.get_or_create(user=u)[0].key)"],
        cwd=BACKEND, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    http, dimse = free_port(), free_port()
    log = (work / "servers.log").open("ab")
    servers.start(
        [PY, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{http}",
         "--workers", str(workers), "--timeout", "600"],
        cwd=BACKEND, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    servers.start(
        [PY, "manage.py", "dicom_scp", "--port", str(dimse), "--host", "127.0.0.1"],
        cwd=BACKEND, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    headers = {"Authorization": f"Token {token}"}
    # /api/health is 503 without a Celery worker, which ingest does not need.
    wait_http(f"http://127.0.0.1:{http}/api/studies/", 60, headers)
    # Django imports the URL configuration (every app's views) on a worker's first request:
    # warm every worker so that the timed requests measure ingest, not imports.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4 * workers) as pool:
        list(
            pool.map(
                lambda _: wait_http(f"http://127.0.0.1:{http}/dicomweb/studies", 60, headers),
                range(8 * workers),
            )
        )
    wait_echo(dimse, 60)
    return {
        "stow_url": f"http://127.0.0.1:{http}/dicomweb/studies",
        "headers": headers,
        "dimse_port": dimse,
        "ae": "BONEREAD",
    }


def orthanc_install() -> str:
    if not shutil.which("Orthanc"):
        print("installing orthanc and orthanc-dicomweb (apt-get)", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
             "orthanc", "orthanc-dicomweb"],
            check=True, env=env,
        )  # fmt: skip
    version = subprocess.run(["Orthanc", "--version"], capture_output=True, text=True).stdout
    return version.splitlines()[0] if version else "unknown"


def orthanc_start(servers: Servers, work: Path) -> dict:
    http, dimse = free_port(), free_port()
    plugins = [d for d in ORTHANC_PLUGIN_DIRS if Path(d).exists()]
    config = {
        "Name": "bench",
        "StorageDirectory": str(work / "storage"),
        "IndexDirectory": str(work / "index"),
        "HttpPort": http,
        "DicomPort": dimse,
        "DicomAet": "ORTHANC",
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomCheckCalledAet": False,
        "StorageCompression": False,
        "Plugins": plugins,
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }
    path = work / "orthanc.json"
    path.write_text(json.dumps(config))
    log = (work / "orthanc.log").open("ab")
    servers.start(["Orthanc", str(path)], stdout=log, stderr=subprocess.STDOUT)
    wait_http(f"http://127.0.0.1:{http}/system", 60)
    wait_echo(dimse, 60)
    return {
        "stow_url": f"http://127.0.0.1:{http}/dicom-web/studies",
        "headers": {},
        "dimse_port": dimse,
        "ae": "ORTHANC",
    }


# --- the run -------------------------------------------------------------------------------


def measure(targets: dict[str, dict], args, scratch: Path) -> dict[str, dict]:
    """Alternate the systems within each repetition so that both see the same machine load."""
    times: dict[str, dict[str, list[float]]] = {
        name: {"stow": [], "cstore": []} for name in targets
    }
    names = list(targets)
    for repeat in range(args.repeats):
        for path_kind in ("stow", "cstore"):
            for name in names if repeat % 2 == 0 else names[::-1]:
                target = targets[name]
                folder = scratch / f"series-{name}-{path_kind}-{repeat}"
                paths = ct_series(folder, args.slices)
                if path_kind == "stow":
                    seconds = stow(target["stow_url"], paths, args.batch, target["headers"])
                else:
                    seconds = cstore(target["dimse_port"], folder, target["ae"])
                times[name][path_kind].append(seconds)
                shutil.rmtree(folder)
                rate = args.slices / seconds
                print(f"{name:9s} {path_kind:6s} run {repeat + 1}: {rate:7.1f} instances/s")
    return {
        name: {
            kind: {
                "seconds": [round(t, 3) for t in values],
                "instances_per_s": round(args.slices / statistics.median(values), 1),
            }
            for kind, values in by_kind.items()
        }
        for name, by_kind in times.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--batch", type=int, default=50, help="instances per STOW-RS request")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for BoneRead")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "ingest.json")
    args = parser.parse_args(argv)
    if not shutil.which("storescu"):
        raise SystemExit("dcmtk's storescu is needed: bash scripts/system-deps.sh")
    orthanc_version = orthanc_install()
    servers = Servers()
    with tempfile.TemporaryDirectory(prefix="boneread-ingest-bench-") as tmp:
        scratch = Path(tmp)
        for name in ("boneread", "orthanc"):
            (scratch / name).mkdir()
        try:
            targets = {
                "boneread": boneread_start(servers, scratch / "boneread", args.workers),
                "orthanc": orthanc_start(servers, scratch / "orthanc"),
            }
            measured = measure(targets, args, scratch)
        finally:
            servers.stop()
    boneread, orthanc = measured["boneread"], measured["orthanc"]
    result = {
        "benchmark": "ingest",
        "series": f"{args.slices} CT slices, 512x512, 16-bit, Explicit VR Little Endian",
        "instance_bytes": 512 * 512 * 2,
        "stow_batch": args.batch,
        "repeats": args.repeats,
        "boneread": {
            **boneread,
            "database": "DATABASE_URL" in os.environ and "postgres" or "sqlite (embedded)",
            "gunicorn_workers": args.workers,
        },
        "orthanc": {**orthanc, "version": orthanc_version},
        "ratio_boneread_to_orthanc": {
            kind: round(boneread[kind]["instances_per_s"] / orthanc[kind]["instances_per_s"], 2)
            for kind in ("stow", "cstore")
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "pydicom": pydicom.__version__,
            "platform": platform.platform(),
        },
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["ratio_boneread_to_orthanc"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
