"""The C-STORE receiver, driven by real DICOM peers: dcmtk's echoscu/storescu and pynetdicom."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage

from studies.dicom_scp import scp_start
from studies.models import Instance
from tests.backend.studies.conftest import make_dataset, to_bytes
from tests.conftest import BACKEND, REPO, database_url

pytestmark = pytest.mark.skipif(
    shutil.which("storescu") is None, reason="dcmtk is not installed (scripts/system-deps.sh)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def scp(transactional_db):
    port = free_port()
    server = scp_start(port=port, ae_title="BONEREAD", host="127.0.0.1", block=False)
    yield port
    server.shutdown()


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_echoscu_and_storescu(scp, tmp_path):
    assert run("echoscu", "-aec", "BONEREAD", "127.0.0.1", str(scp)).returncode == 0
    folder = tmp_path / "send"
    folder.mkdir()
    for n in (1, 2):
        (folder / f"ct{n}.dcm").write_bytes(to_bytes(make_dataset(instance_number=n, seed=n)))
    sent = run("storescu", "-aec", "BONEREAD", "+sd", "127.0.0.1", str(scp), str(folder))
    assert sent.returncode == 0, sent.stderr
    # Compressed transfer syntaxes (JPEG baseline, RLE) are accepted and kept as sent.
    for name, option in (("SC_rgb_jpeg_dcmtk.dcm", "-xy"), ("MR_small_RLE.dcm", "-xr")):
        compressed = run("storescu", option, "127.0.0.1", str(scp), get_testdata_file(name))
        assert compressed.returncode == 0, compressed.stderr
    assert Instance.objects.filter(source="cstore").count() == 4
    syntaxes = set(Instance.objects.values_list("transfer_syntax_uid", flat=True))
    assert syntaxes == {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.5"}
    again = run("storescu", "-aec", "BONEREAD", "+sd", "127.0.0.1", str(scp), str(folder))
    assert again.returncode == 0, again.stderr
    assert Instance.objects.count() == 4  # re-sending is a no-op


def test_pynetdicom_store_conflict_gets_failure_status(scp):
    ds = make_dataset(seed=1)
    ae = AE(ae_title="MODALITY")
    ae.add_requested_context(CTImageStorage)
    assoc = ae.associate("127.0.0.1", scp, ae_title="BONEREAD")
    assert assoc.is_established
    try:
        assert assoc.send_c_store(ds).Status == 0x0000
        assert assoc.send_c_store(ds).Status == 0x0000  # identical: a no-op
        changed = make_dataset(sop_uid=ds.SOPInstanceUID, study_uid=ds.StudyInstanceUID, seed=2)
        changed.SeriesInstanceUID = ds.SeriesInstanceUID
        status = assoc.send_c_store(changed)
        assert status.Status == 0x0111
        assert "different content" in status.ErrorComment
        broken = make_dataset()
        broken.Rows = 4096
        status = assoc.send_c_store(broken)
        assert status.Status == 0x0110
        assert "pixel data does not match" in status.ErrorComment
    finally:
        assoc.release()
    assert Instance.objects.count() == 1


def test_dicom_scp_command_answers_echo(transactional_db, settings, tmp_path):
    from django.db import connection

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "BONEREAD_VAR_DIR": str(settings.VAR_DIR),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONPATH": os.pathsep.join([str(BACKEND), str(REPO / "ml")]),
    }
    command = [sys.executable, "manage.py", "dicom_scp", "--port", str(port), "--host", "127.0.0.1"]
    server = subprocess.Popen(command, cwd=BACKEND, env=env, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while run("echoscu", "127.0.0.1", str(port)).returncode != 0:
            assert server.poll() is None, "the receiver exited"
            assert time.monotonic() < deadline, "no C-ECHO answer within 30 s"
            time.sleep(0.3)
        path = tmp_path / "one.dcm"
        path.write_bytes(to_bytes(make_dataset()))
        assert run("storescu", "127.0.0.1", str(port), str(path)).returncode == 0
        assert Instance.objects.filter(source="cstore").count() == 1
        assert Path(tmp_path / "media").exists()
    finally:
        server.terminate()
        server.wait(timeout=30)
