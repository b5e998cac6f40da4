"""Several senders storing the same objects at once: one copy of each, no errors, no orphans."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from pydicom.uid import generate_uid

from studies.models import Instance, Patient, Series, Study
from studies.services import IngestStatus, instance_ingest, instances_ingest
from tests.backend.studies.conftest import make_dataset, to_bytes


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_store_each_object_once(media_root):
    study, series = generate_uid(), generate_uid()
    files = [
        (f"{n}.dcm", to_bytes(make_dataset(study_uid=study, series_uid=series, seed=n)))
        for n in range(6)
    ]

    def send(sender: int) -> list[str]:
        try:
            if sender % 2:  # one object at a time, as C-STORE does
                return [
                    instance_ingest(file=data, source="cstore", filename=name).status
                    for name, data in files
                ]
            return [r.status for r in instances_ingest(files=files, source="stow")]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(send, range(4)))
    for statuses in outcomes:
        assert set(statuses) <= {IngestStatus.STORED, IngestStatus.DUPLICATE}, outcomes
    assert sum(s == IngestStatus.STORED for o in outcomes for s in o) == 6
    assert Instance.objects.count() == 6
    assert (Series.objects.count(), Study.objects.count(), Patient.objects.count()) == (1, 1, 1)
    files_on_disk = list(media_root.rglob("*.dcm"))
    assert len(files_on_disk) == 6
