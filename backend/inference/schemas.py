"""OpenAPI shapes of the inference API's answers (the dicts built by inference.selectors)."""

from __future__ import annotations

from rest_framework import serializers


class ModelVersionOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    task = serializers.CharField()
    version = serializers.CharField()
    checksum = serializers.CharField()
    postprocess_sha256 = serializers.CharField()
    is_active = serializers.BooleanField()
    created = serializers.DateTimeField()


class ModelVersionDetailOutputSerializer(ModelVersionOutputSerializer):
    metrics = serializers.JSONField()
    model_card = serializers.CharField()
    architecture = serializers.CharField(allow_null=True)
    uses_text = serializers.BooleanField(allow_null=True)


class JobOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    study_id = serializers.UUIDField()
    state = serializers.CharField()
    stage = serializers.CharField()
    progress = serializers.FloatField()
    attempts = serializers.IntegerField()
    cancel_requested = serializers.BooleanField()
    is_rerun = serializers.BooleanField()
    trigger = serializers.CharField()
    batch_id = serializers.UUIDField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    created = serializers.DateTimeField()
    queued_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    timings = serializers.JSONField()
    runtime = serializers.CharField(
        allow_null=True,
        help_text='What ran the image network: "onnxruntime" or "torch"; null until it succeeded.',
    )
    suppressed_outside_report = serializers.IntegerField(
        allow_null=True,
        help_text="Lesions the model's report-site gate removed (unlikely lesions outside every "
        "site the report names); null when the model has no gate or the job has not succeeded.",
    )
    suppressed_below_floor = serializers.IntegerField(
        allow_null=True,
        help_text="Lesions below the model's lesion-probability floor, left out of the list; "
        "null when the model has no floor or the job has not succeeded.",
    )
    model_version = ModelVersionOutputSerializer()
    report_version = serializers.IntegerField(allow_null=True)


class BatchJobOutputSerializer(JobOutputSerializer):
    created_now = serializers.BooleanField()


class SkippedStudySerializer(serializers.Serializer):
    study_id = serializers.CharField()
    reason = serializers.CharField()


class JobBatchOutputSerializer(serializers.Serializer):
    batch_id = serializers.UUIDField()
    jobs = BatchJobOutputSerializer(many=True)
    skipped = SkippedStudySerializer(many=True)


class LesionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.IntegerField()
    class_name = serializers.CharField()
    probability = serializers.FloatField()
    area_px = serializers.IntegerField(allow_null=True)
    area_mm2 = serializers.FloatField(allow_null=True)
    volume_vox = serializers.IntegerField(allow_null=True)
    volume_ml = serializers.FloatField(allow_null=True)
    max_counts = serializers.FloatField(allow_null=True)
    region = serializers.CharField(allow_null=True)
    class_source = serializers.ChoiceField(
        choices=["report_site", "image"],
        allow_null=True,
        help_text="report_site: the report names this lesion's site for its class (the "
        "model's report-site rule); image: the network's class; null: not recorded.",
    )
    centroid = serializers.JSONField()
    bbox = serializers.JSONField()
    locations = serializers.JSONField()


class HeldBackOutputSerializer(LesionOutputSerializer):
    held_back = serializers.ChoiceField(
        choices=["below_floor", "outside_report"],
        help_text="Why it is not in the lesion list: below the model's lesion-probability floor, "
        "or an unlikely lesion outside every site the report names (the report-site gate).",
    )


class SegOutputSerializer(serializers.Serializer):
    instance_id = serializers.UUIDField()
    sop_instance_uid = serializers.CharField()
    series_instance_uid = serializers.CharField()
    study_instance_uid = serializers.CharField()
    wado_uri = serializers.CharField()


class LabelmapOutputSerializer(serializers.Serializer):
    url = serializers.CharField()
    shape = serializers.JSONField()
    dtype = serializers.CharField()
    classes = serializers.DictField(child=serializers.CharField())
    frames = serializers.JSONField()


class AiResultOutputSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    model_version = ModelVersionOutputSerializer()
    report_version = serializers.IntegerField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    lesion_counts = serializers.DictField(child=serializers.IntegerField())
    suppressed_outside_report = serializers.IntegerField(
        allow_null=True, help_text="As on the job: lesions the report-site gate removed."
    )
    suppressed_below_floor = serializers.IntegerField(
        allow_null=True, help_text="As on the job: lesions below the lesion-probability floor."
    )
    lesions = LesionOutputSerializer(many=True)
    held_back = HeldBackOutputSerializer(
        many=True,
        help_text="Findings the model's floor or gate left out of the list, the SEG and the "
        "label map (their id follows the listed lesions'); the viewer shows them on request. "
        "Empty for jobs that ran before they were kept.",
    )
    seg = SegOutputSerializer(many=True)
    labelmap = LabelmapOutputSerializer()


class StudyAiOutputSerializer(serializers.Serializer):
    study_id = serializers.UUIDField()
    latest_job = JobOutputSerializer(allow_null=True)
    result = AiResultOutputSerializer(allow_null=True)
    current_report_version = serializers.IntegerField(allow_null=True)


class StudySegmentationSerializer(serializers.Serializer):
    series_instance_uid = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    source = serializers.ChoiceField(choices=["ai", "archive"])
    job_id = serializers.UUIDField(allow_null=True)
    created = serializers.DateTimeField()
    labelmap_url = serializers.CharField()


class StudySegmentationsOutputSerializer(serializers.Serializer):
    segmentations = StudySegmentationSerializer(many=True)


class SegLabelmapOutputSerializer(serializers.Serializer):
    series_instance_uid = serializers.CharField()
    shape = serializers.ListField(child=serializers.IntegerField())
    dtype = serializers.CharField()
    classes = serializers.DictField(child=serializers.CharField())
    frames = serializers.ListField(child=serializers.DictField())
    data = serializers.CharField(help_text="base64 of the gzipped uint8 label map")
