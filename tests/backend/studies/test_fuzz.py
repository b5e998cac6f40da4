"""Damaged objects never crash the ingest: every mutation is stored, a duplicate, or rejected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.data import get_charset_files, get_testdata_file

from studies.services import IngestStatus, instances_ingest
from tests.backend.studies.conftest import make_dataset, to_bytes


def mutations(data: bytes, rng: np.random.Generator, count: int) -> list[bytes]:
    out = []
    for _ in range(count):
        kind = rng.integers(3)
        buffer = bytearray(data)
        if kind == 0:  # flip bytes in the header, where the structure is
            for _ in range(int(rng.integers(1, 8))):
                buffer[int(rng.integers(128, min(len(buffer), 1200)))] = int(rng.integers(256))
        elif kind == 1:  # cut anywhere
            buffer = buffer[: int(rng.integers(0, len(buffer)))]
        else:  # insert garbage in the middle
            at = int(rng.integers(132, len(buffer)))
            buffer[at:at] = rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
        out.append(bytes(buffer))
    return out


@pytest.mark.django_db
def test_mutated_files_never_crash_the_ingest():
    rng = np.random.default_rng(7)
    sources = [
        to_bytes(make_dataset(rows=16, columns=16)),
        Path(get_testdata_file("JPEG2000.dcm")).read_bytes(),
        Path(get_charset_files("chrX2.dcm")[0]).read_bytes(),
    ]
    files = []
    for data in sources:
        files += [(f"mutant-{len(files) + i}", m) for i, m in enumerate(mutations(data, rng, 150))]
    results = instances_ingest(files=files, source="import")
    statuses = {r.status for r in results}
    assert statuses <= {IngestStatus.STORED, IngestStatus.DUPLICATE, IngestStatus.REJECTED}
    assert all(r.reason for r in results if r.status == IngestStatus.REJECTED)
    assert sum(r.status == IngestStatus.REJECTED for r in results) > len(files) // 3
