"""`manage.py create_demo_reader_study`: the demo's crossover study with reader1/reader2, truth
from the demo manifests (through the CSV import), AI precomputed, then frozen and started."""

import io
import json

import pytest
from django.core.management import call_command

from accounts.services import demo_users_ensure
from inference.models import InferenceJob, JobState
from readerstudies.models import ReaderStudy, ReaderStudyCase

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_data(tmp_path, make_archive_study, model_version):
    """A demo-data folder whose manifest names three archive studies (with NM images)."""
    from studies.models import IngestSource, Instance, Series

    cases = []
    for i in range(3):
        study = make_archive_study()
        series = Series.objects.create(
            series_instance_uid=f"{study.study_instance_uid}.1", study=study, modality="NM"
        )
        Instance.objects.create(
            sop_instance_uid=f"{study.study_instance_uid}.1.1", sop_class_uid="1.2.840.10008.5.1.4.1.1.20",
            series=series, transfer_syntax_uid="1.2.840.10008.1.2.1", file=f"x{i}", sha256="0" * 64,
            size=1, source=IngestSource.DEMO,
        )  # fmt: skip
        lesions = [{"class_name": "metastatic", "centroid": [400.0, 120.5]}] if i == 0 else []
        cases.append({"study": {"study_instance_uid": study.study_instance_uid},
                      "lesions": lesions})  # fmt: skip
    folder = tmp_path / "demo-data" / "planar"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"cases": cases}), encoding="utf-8")
    return tmp_path / "demo-data"


def run(*args) -> str:
    out = io.StringIO()
    call_command("create_demo_reader_study", *args, stdout=out)
    return out.getvalue()


def test_demo_reader_study_is_created_then_started_when_the_ai_is_done(demo_data):
    demo_users_ensure()
    assert "created with 3 cases" in run("--root", str(demo_data))
    reader_study = ReaderStudy.objects.get()
    assert reader_study.state == "draft" and reader_study.design == "crossover"
    assert sorted(r.reader.username for r in reader_study.readers.all()) == ["reader1", "reader2"]
    cases = ReaderStudyCase.objects.filter(reader_study=reader_study)
    assert all(c.truth_metastasis is not None for c in cases)
    assert sum(c.truth_metastasis for c in cases) == 1
    jobs = InferenceJob.objects.filter(id__in=cases.values("ai_job_id"))
    assert jobs.count() == 3
    assert all(j.conditioning_text == "临床病史：乳腺癌术后" for j in jobs)
    # The worker's part, done here: the jobs succeed.
    jobs.update(state=JobState.SUCCEEDED)
    assert "started" in run("--root", str(demo_data), "--wait", "1")
    reader_study.refresh_from_db()
    assert reader_study.state == "open"
    assert "demo reader study: open" in run("--root", str(demo_data))
