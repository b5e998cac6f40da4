"""The server's logs never carry a patient's name or ID: a scripted session touching every path
that handles them (ingest, a refused re-send, searches, detail, retrieval, reports, the
de-identified export, a refusal) is logged at DEBUG, and the log holds neither."""

from __future__ import annotations

import io
import logging

from pydicom.uid import generate_uid
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import user_create
from studies.models import Study
from tests.backend.studies.conftest import make_dataset, to_bytes

NAME = "PHIPROBE^QUANSHEN=探针^全身"
PATIENT_ID = "PHIPROBE-ID-7731"
FRAGMENTS = ("PHIPROBE", "QUANSHEN", "探针", "全身", "7731")


def test_a_scripted_session_logs_no_patient_name_or_id(api, caplog):
    caplog.set_level(logging.DEBUG)
    study_uid = generate_uid()
    ds = make_dataset(study_uid=study_uid, patient_name=NAME, patient_id=PATIENT_ID, seed=3)
    upload = io.BytesIO(to_bytes(ds))
    upload.name = "scan.dcm"
    assert (
        api.post("/api/studies/upload", {"files": [upload]}, format="multipart").status_code == 200
    )
    ds.PixelData = make_dataset(seed=9).PixelData  # same SOP instance, other pixels: refused
    changed = io.BytesIO(to_bytes(ds))
    changed.name = "scan-changed.dcm"
    refused = api.post("/api/studies/upload", {"files": [changed]}, format="multipart")
    assert refused.status_code == 409
    study = Study.objects.get(study_instance_uid=study_uid)

    assert api.get("/api/studies/", {"search": "PHIPROBE"}).status_code == 200
    assert api.get("/dicomweb/studies", {"PatientName": "PHIPROBE*"}).status_code == 200
    assert api.get("/dicomweb/studies", {"PatientID": PATIENT_ID}).status_code == 200
    assert api.get(f"/api/studies/{study.id}/").status_code == 200
    sop = str(ds.SOPInstanceUID)
    wado = api.get("/wado", {"requestType": "WADO", "studyUID": study_uid,
                             "seriesUID": str(ds.SeriesInstanceUID), "objectUID": sop,
                             "contentType": "application/dicom"})  # fmt: skip
    assert wado.status_code == 200
    saved = api.put(f"/api/studies/{study.id}/report",
                    {"history": "患者探针全身", "findings": "所见", "impression": "诊断",
                     "base_version": 0}, format="json")  # fmt: skip
    assert saved.status_code in (200, 201), saved.content
    signed = api.post(f"/api/studies/{study.id}/report/sign",
                      {"version": saved.json()["version"]}, format="json")  # fmt: skip
    assert signed.status_code == 200, signed.content
    assert api.get(f"/api/studies/{study.id}/deidentified-export").status_code == 200
    reader = APIClient()
    reader.force_authenticate(
        user_create(username="reader9", password="Bone-scan-2026", role=Role.READER)
    )
    assert reader.get(f"/api/studies/{study.id}/").status_code == 404

    assert caplog.records, "nothing was logged: the check would be empty"
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    for fragment in FRAGMENTS:
        assert fragment not in logged, f"{fragment!r} in the log:\n{logged[:3000]}"
