"""A model version is its weights and its post-processing (config.json's ``postprocess``)."""

from django.db import migrations, models


def fill_postprocess_sha256(apps, schema_editor):
    from boneread_ml.models.release import postprocess_sha256

    ModelVersion = apps.get_model("inference", "ModelVersion")
    for version in ModelVersion.objects.all():
        version.postprocess_sha256 = postprocess_sha256(version.config or {})
        version.save(update_fields=["postprocess_sha256"])


class Migration(migrations.Migration):
    dependencies = [
        ("inference", "0004_lesion_class_source"),
    ]

    operations = [
        migrations.AddField(
            model_name="modelversion",
            name="postprocess_sha256",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(fill_postprocess_sha256, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="modelversion",
            name="model_version_checksum",
        ),
        migrations.AddConstraint(
            model_name="modelversion",
            constraint=models.UniqueConstraint(
                fields=("task", "checksum", "postprocess_sha256"), name="model_version_checksum"
            ),
        ),
    ]
