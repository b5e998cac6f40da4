"""The DICOM C-STORE receiver (pynetdicom): every received object goes through instance_ingest.

Answers C-ECHO (Verification) and C-STORE for every storage SOP class in every transfer syntax
pydicom knows. Each association runs in its own thread with its own database connection, closed
when the association ends.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from pydicom.dataset import Dataset
from pynetdicom import (
    AE,
    ALL_TRANSFER_SYNTAXES,
    AllStoragePresentationContexts,
    evt,
)
from pynetdicom.sop_class import Verification

from studies.models import IngestSource
from studies.services import IngestStatus, instance_ingest

log = logging.getLogger(__name__)

STATUS_SUCCESS = 0x0000
STATUS_OUT_OF_RESOURCES = 0xA700
STATUS_CANNOT_UNDERSTAND = 0xC000
STATUS_PROCESSING_FAILURE = 0x0110
STATUS_DUPLICATE_CONFLICT = 0x0111


def _status(code: int, comment: str = "") -> Dataset:
    status = Dataset()
    status.Status = code
    if comment:
        status.ErrorComment = comment[:64]  # LO
    return status


def handle_store(event: Any) -> Dataset | int:
    """C-STORE: archive the object as received (no decoding/re-encoding of the data set)."""
    close_old_connections()
    calling = event.assoc.requestor.ae_title
    try:
        data = event.encoded_dataset(include_meta=True)
    except Exception as exc:
        return _status(STATUS_CANNOT_UNDERSTAND, f"cannot read the data set: {exc}")
    try:
        result = instance_ingest(file=data, source=IngestSource.CSTORE, filename=f"from {calling}")
    except Exception:
        log.exception("C-STORE from %s: storing failed", calling)
        return _status(STATUS_OUT_OF_RESOURCES, "the archive could not store the object")
    if result.status != IngestStatus.REJECTED:
        return STATUS_SUCCESS
    log.warning("C-STORE from %s rejected: %s", calling, result.reason)
    if result.conflict:
        return _status(STATUS_DUPLICATE_CONFLICT, "stored with different content; original kept")
    if "not a DICOM" in result.reason or "not readable" in result.reason:
        return _status(STATUS_CANNOT_UNDERSTAND, result.reason)
    return _status(STATUS_PROCESSING_FAILURE, result.reason)


def handle_echo(event: Any) -> int:
    return STATUS_SUCCESS


def handle_close(event: Any) -> None:
    connection.close()


HANDLERS = [
    (evt.EVT_C_STORE, handle_store),
    (evt.EVT_C_ECHO, handle_echo),
    (evt.EVT_CONN_CLOSE, handle_close),
]


# pynetdicom accepts the first of *our* transfer syntaxes that the peer proposes. Compressed ones
# come first: a peer that offers its compressed encoding next to uncompressed ones then sends the
# object as it holds it (no decompression, the bytes the modality wrote). A peer that proposes
# only uncompressed syntaxes (storescu's default) is unaffected.
_UNCOMPRESSED = [
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.2",  # Explicit VR Big Endian (retired)
]
TRANSFER_SYNTAXES = [ts for ts in ALL_TRANSFER_SYNTAXES if ts not in _UNCOMPRESSED] + _UNCOMPRESSED


def scp_application_entity(*, ae_title: str) -> AE:
    ae = AE(ae_title=ae_title)
    for context in AllStoragePresentationContexts:
        ae.add_supported_context(context.abstract_syntax, TRANSFER_SYNTAXES)
    ae.add_supported_context(Verification, _UNCOMPRESSED)
    ae.maximum_pdu_size = 0  # no limit: fewer, larger PDUs are faster
    # Peers address us by any called AE title (many modalities are configured loosely).
    ae.require_called_aet = False
    # Calling AE titles: any, unless DICOM_SCP_ALLOWED_CALLING_AETS lists the accepted ones
    # (an association from another one is rejected). DIMSE has no user authentication.
    allowed = [t.strip() for t in getattr(settings, "DICOM_SCP_ALLOWED_CALLING_AETS", []) if t]
    if allowed:
        ae.require_calling_aet = allowed
    return ae


def scp_start(*, port: int, ae_title: str, host: str = "0.0.0.0", block: bool = True):
    """Serve until stopped; with ``block=False`` return the server (``.shutdown()`` stops it)."""
    ae = scp_application_entity(ae_title=ae_title)
    log.info("C-STORE receiver %s listening on %s:%d", ae_title, host, port)
    return ae.start_server((host, port), block=block, evt_handlers=HANDLERS)
