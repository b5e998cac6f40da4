"""AI models and jobs: ModelVersion (a registered checkpoint), InferenceJob, Lesion.

Rows are written only by :mod:`inference.services`. A job's outputs (the SEG instances in the
archive, the lesion rows, the stored label map) are keyed by the job id, so a job that runs
twice still has one result.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import BaseModel


class ModelTask(models.TextChoices):
    PLANAR = "planar", "Planar whole-body"
    SPECTCT = "spectct", "SPECT/CT"


class ModelVersion(BaseModel):
    """A released checkpoint directory (``model.safetensors`` + ``config.json`` + tokenizer)."""

    name = models.CharField(max_length=100)
    task = models.CharField(max_length=16, choices=ModelTask.choices)
    version = models.CharField(max_length=64)
    # Directory of the release; relative paths are relative to settings.MODEL_DIR.
    path = models.CharField(max_length=500)
    # sha256 of the weights file; verified against config.json and the file on every load.
    checksum = models.CharField(max_length=64)
    # sha256 of config.json's ``postprocess`` (boneread_ml.models.release.postprocess_sha256):
    # the same weights with other post-processing are another version; verified on every load.
    postprocess_sha256 = models.CharField(max_length=64, blank=True, default="")
    config = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    model_card = models.TextField(blank=True)
    is_active = models.BooleanField(default=False)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["task", "-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "checksum", "postprocess_sha256"], name="model_version_checksum"
            ),
            models.UniqueConstraint(
                fields=["task", "name", "version"], name="model_version_name_version"
            ),
            models.UniqueConstraint(
                fields=["task"], condition=Q(is_active=True), name="model_version_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version} ({self.task}{', active' if self.is_active else ''})"


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


TERMINAL_STATES = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)
ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING)


class InferenceJob(BaseModel):
    """Run one model version on one study with one report version.

    States: queued -> running -> succeeded | failed | cancelled (running -> queued again when
    a transient error is retried or a dead worker's job is recovered).
    """

    study = models.ForeignKey(
        "studies.Study", on_delete=models.CASCADE, related_name="inference_jobs"
    )
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="jobs")
    report_version = models.ForeignKey(
        "reports.ReportVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inference_jobs",
        help_text="The report text the model was conditioned on (none: the image alone).",
    )
    # The exact text the model is conditioned on when it is not the report version's full text
    # (a reader study conditioned on the clinical history only); None: ``report_version.text``.
    conditioning_text = models.TextField(null=True, blank=True)  # noqa: DJ001 (None != "")
    # "<study>:<report version or ->:<model version>" while the job counts as the result for
    # that triple (queued, running, succeeded and not a re-run); unique, so concurrent
    # requests for the same triple make one job. Cleared when the job fails or is cancelled.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    is_rerun = models.BooleanField(default=False)
    batch_id = models.UUIDField(null=True, blank=True, db_index=True)
    trigger = models.CharField(max_length=32, default="api")  # api, auto, batch, ...
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    state = models.CharField(
        max_length=16, choices=JobState.choices, default=JobState.QUEUED, db_index=True
    )
    stage = models.CharField(max_length=32, blank=True)
    progress = models.FloatField(default=0.0)
    attempts = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True, help_text="For the user: what went wrong, what to do.")
    error_detail = models.TextField(blank=True, help_text="For admins: exception and traceback.")

    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Seconds per stage of the successful attempt: load_model, read_images, predict, ...
    timings = models.JSONField(default=dict, blank=True)

    # The run that owns the job now; a run whose token was replaced stops writing.
    run_token = models.UUIDField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    # Results (written in one transaction with state=succeeded).
    seg_series_uid = models.CharField(max_length=64, blank=True)
    seg_instances = models.ManyToManyField("studies.Instance", blank=True, related_name="+")
    labelmap_file = models.CharField(max_length=255, blank=True)
    labelmap_shape = models.JSONField(default=list, blank=True)
    # How label map frames map to source images: [{sop_instance_uid, frame, view}, ...].
    labelmap_frames = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["study", "-created"])]

    def __str__(self) -> str:
        return f"job {self.id} ({self.state})"


class Lesion(BaseModel):
    """One connected lesion component of a job's label map."""

    job = models.ForeignKey(InferenceJob, on_delete=models.CASCADE, related_name="lesions")
    number = models.PositiveIntegerField()  # id in the label map's instance map (1-based)
    label = models.PositiveSmallIntegerField()  # 1 benign, 2 metastatic
    class_name = models.CharField(max_length=16)
    probability = models.FloatField()
    area_px = models.IntegerField(null=True, blank=True)
    area_mm2 = models.FloatField(null=True, blank=True)
    volume_vox = models.IntegerField(null=True, blank=True)
    volume_ml = models.FloatField(null=True, blank=True)
    max_counts = models.FloatField(null=True, blank=True)
    region = models.CharField(max_length=64, blank=True)
    # Where the class came from: "report_site" (the report names this lesion's site for the
    # class: the model's report-site rule), "image" (the network), "" (not recorded: models
    # and jobs from before the rule).
    class_source = models.CharField(max_length=16, blank=True, default="")
    centroid = models.JSONField(default=list)
    bbox = models.JSONField(default=list)
    # Planar: centroid/bbox per view frame in that frame's pixel coordinates; SPECT/CT: the CT
    # slice of the centroid. What the viewer needs to jump to the lesion.
    locations = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="lesion_unique")]

    def __str__(self) -> str:
        return f"lesion {self.number} of {self.job_id} ({self.class_name})"
