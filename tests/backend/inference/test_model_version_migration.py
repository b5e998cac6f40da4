"""The migration that makes a model version's post-processing part of its identity."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

OLD = [("inference", "0004_lesion_class_source")]
NEW = [("inference", "0005_model_version_postprocess")]


@pytest.mark.django_db(transaction=True)
def test_registered_versions_get_the_hash_of_their_recorded_post_processing():
    from boneread_ml.models.release import postprocess_sha256

    executor = MigrationExecutor(connection)
    executor.migrate(OLD)
    old_apps = executor.loader.project_state(OLD).apps
    OldVersion = old_apps.get_model("inference", "ModelVersion")  # noqa: N806
    configs = {
        "with": {"task": "planar", "postprocess": {"lesion_threshold": 0.9}},
        "without": {"task": "spectct"},
    }
    for name, config in configs.items():
        OldVersion.objects.create(
            name=name, task=config["task"], version="1", path=name, checksum="a" * 64, config=config
        )

    executor = MigrationExecutor(connection)
    executor.migrate(NEW)
    from inference.models import ModelVersion

    stored = dict(ModelVersion.objects.values_list("name", "postprocess_sha256"))
    assert stored == {name: postprocess_sha256(config) for name, config in configs.items()}
    assert stored["with"] != stored["without"]
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
