"""DIMSE has no user authentication; the C-STORE receiver can at least accept only the calling
AE titles it is told to (DICOM_SCP_ALLOWED_CALLING_AETS)."""

from __future__ import annotations

import socket

from pynetdicom import AE
from pynetdicom.sop_class import Verification

from studies.dicom_scp import scp_start


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _echo(port: int, calling: str) -> bool:
    ae = AE(ae_title=calling)
    ae.add_requested_context(Verification)
    assoc = ae.associate("127.0.0.1", port, ae_title="BONEREAD")
    established = assoc.is_established
    if established:
        assert assoc.send_c_echo().Status == 0
        assoc.release()
    return established


def test_only_listed_calling_ae_titles_are_accepted(settings):
    settings.DICOM_SCP_ALLOWED_CALLING_AETS = ["MODALITY1"]
    port = _free_port()
    server = scp_start(port=port, ae_title="BONEREAD", host="127.0.0.1", block=False)
    try:
        assert _echo(port, "MODALITY1")
        assert not _echo(port, "INTRUDER")
    finally:
        server.shutdown()


def test_without_a_list_any_calling_ae_title_is_accepted(settings):
    settings.DICOM_SCP_ALLOWED_CALLING_AETS = []
    port = _free_port()
    server = scp_start(port=port, ae_title="BONEREAD", host="127.0.0.1", block=False)
    try:
        assert _echo(port, "ANYONE")
    finally:
        server.shutdown()
