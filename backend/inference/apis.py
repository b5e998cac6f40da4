"""REST API of AI jobs and models: /api/inference/..., /api/studies/<id>/ai, /api/models/."""

from __future__ import annotations

import gzip

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import audit_record, view_window_seconds
from core.exceptions import ApplicationError, NotFoundError
from inference import selectors, services
from inference.models import ModelVersion
from inference.permissions import CanManageModels, CanRunJobs
from inference.results import labelmap_read
from inference.schemas import (
    JobBatchOutputSerializer,
    JobOutputSerializer,
    ModelVersionDetailOutputSerializer,
    SegLabelmapOutputSerializer,
    StudyAiOutputSerializer,
    StudySegmentationsOutputSerializer,
)
from reports.selectors import study_for_user


class JobCreateInputSerializer(serializers.Serializer):
    study_id = serializers.UUIDField()
    model_version_id = serializers.UUIDField(required=False, allow_null=True)
    rerun = serializers.BooleanField(required=False, default=False)


def _audit_run(request, job, created: bool) -> None:
    audit_record(
        action="inference.run",
        request=request,
        object_type="study",
        object_id=job.study_id,
        details={
            "job_id": str(job.id),
            "created": created,
            "model_version": str(job.model_version_id),
        },
    )


def _job_response(job, created: bool) -> Response:
    return Response(
        selectors.job_output(job), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
    )


class JobCreateApi(APIView):
    """POST {study_id, model_version_id?, rerun?} -> the job (201 new, 200 existing)."""

    permission_classes = [CanRunJobs]

    @extend_schema(
        request=JobCreateInputSerializer,
        responses={200: JobOutputSerializer, 201: JobOutputSerializer},
    )
    def post(self, request):
        data = JobCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        study = study_for_user(request.user, data.validated_data["study_id"])
        job, created = services.inference_job_create(
            study=study,
            user=request.user,
            model_version_id=data.validated_data.get("model_version_id"),
            rerun=data.validated_data["rerun"],
        )
        _audit_run(request, job, created)
        return _job_response(job, created)


class JobDetailApi(APIView):
    @extend_schema(responses=JobOutputSerializer)
    def get(self, request, job_id):
        return Response(selectors.job_output(selectors.job_get_for_user(request.user, job_id)))


class JobCancelApi(APIView):
    permission_classes = [CanRunJobs]

    @extend_schema(request=None, responses=JobOutputSerializer)
    def post(self, request, job_id):
        job = selectors.job_get_for_user(request.user, job_id)
        job = services.inference_job_cancel(job=job, user=request.user)
        audit_record(
            action="inference.cancel",
            request=request,
            object_type="study",
            object_id=job.study_id,
            details={"job_id": str(job.id)},
        )
        return Response(selectors.job_output(job))


class JobBatchApi(APIView):
    """POST {study_ids: [...]} or {reader_study_id} (+ model_version_id?, rerun?)."""

    permission_classes = [CanRunJobs]

    class InputSerializer(serializers.Serializer):
        study_ids = serializers.ListField(
            child=serializers.UUIDField(), required=False, max_length=services.BATCH_MAX_STUDIES
        )
        reader_study_id = serializers.UUIDField(required=False)
        model_version_id = serializers.UUIDField(required=False, allow_null=True)
        rerun = serializers.BooleanField(required=False, default=False)

        def validate(self, attrs):
            if bool(attrs.get("study_ids")) == bool(attrs.get("reader_study_id")):
                raise serializers.ValidationError("Give either study_ids or reader_study_id.")
            return attrs

    @extend_schema(request=InputSerializer, responses={202: JobBatchOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data.get("reader_study_id"):
            study_ids = _reader_study_study_ids(
                request.user, data.validated_data["reader_study_id"]
            )
        else:
            study_ids = list(dict.fromkeys(data.validated_data["study_ids"]))
        studies, skipped = [], []
        for study_id in study_ids:
            try:
                studies.append(study_for_user(request.user, study_id))
            except NotFoundError as exc:
                skipped.append({"study_id": str(study_id), "reason": exc.message})
        result = services.inference_jobs_batch(
            studies=studies,
            user=request.user,
            model_version_id=data.validated_data.get("model_version_id"),
            rerun=data.validated_data["rerun"],
        )
        for job, created in result["jobs"]:
            _audit_run(request, job, created)
        return Response(
            {
                "batch_id": str(result["batch_id"]),
                "jobs": [
                    {**selectors.job_output(job), "created_now": created}
                    for job, created in result["jobs"]
                ],
                "skipped": skipped + result["skipped"],
            },
            status=status.HTTP_202_ACCEPTED,
        )


def _reader_study_study_ids(user, reader_study_id) -> list:
    """Study ids of a reader study's cases (the readerstudies app, when installed)."""
    from django.apps import apps

    if not apps.is_installed("readerstudies"):
        raise ApplicationError("Reader studies are not available on this server yet.")
    try:
        from readerstudies.selectors import reader_study_study_ids
    except ImportError as exc:
        raise ApplicationError("Reader studies cannot list their cases yet.") from exc
    return list(reader_study_study_ids(user=user, reader_study_id=reader_study_id))


class JobLabelmapApi(APIView):
    """The job's label map as raw uint8 bytes (C order, shape in X-Labelmap-Shape), gzip-encoded
    when the client accepts it (browsers do, and fetch() hands back the decoded bytes)."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, job_id):
        job = selectors.job_get_for_user(request.user, job_id)
        if job.state != "succeeded" or not job.labelmap_file:
            raise NotFoundError(f"Job {job.id} has no label map (state {job.state}).")
        data = labelmap_read(job.labelmap_file)
        gzip_ok = "gzip" in request.headers.get("Accept-Encoding", "")
        response = HttpResponse(
            data if gzip_ok else gzip.decompress(data), content_type="application/octet-stream"
        )
        if gzip_ok:
            response["Content-Encoding"] = "gzip"
        response["X-Labelmap-Shape"] = ",".join(str(v) for v in job.labelmap_shape)
        response["X-Labelmap-Dtype"] = "uint8"
        response["Access-Control-Expose-Headers"] = "X-Labelmap-Shape, X-Labelmap-Dtype"
        response["Cache-Control"] = "private, max-age=86400, immutable"
        response["Vary"] = "Accept-Encoding"
        return response


class JobResultApi(APIView):
    """GET /api/inference/jobs/<id>/result: one succeeded job's result (the viewer's picker)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, job_id):
        job = selectors.job_get_for_user(request.user, job_id)
        result = selectors.job_result_output(job)
        if result is None:
            raise NotFoundError(
                f"Job {job.id} has no result (state {job.state}).",
                code="job_no_result",
                params={"state": job.state},
            )
        return Response(result)


class StudyAiApi(APIView):
    """GET /api/studies/<id>/ai: the newest job and the newest result, for the viewer."""

    @extend_schema(responses=StudyAiOutputSerializer)
    def get(self, request, study_id):
        study = study_for_user(request.user, study_id)
        allowed = selectors.ai_access_check(request.user, study)
        audit_record(
            action="ai.view",
            request=request,
            object_type="study",
            object_id=study.id,
            coalesce_seconds=view_window_seconds(),
        )
        return Response(selectors.study_ai_summary(study=study, allowed=allowed))


class StudySegmentationsApi(APIView):
    """GET /api/studies/<id>/segmentations/: the study's DICOM SEG series (AI results and any
    other tool's), newest first, each with the URL of its label map."""

    @extend_schema(responses=StudySegmentationsOutputSerializer)
    def get(self, request, study_id):
        study = study_for_user(request.user, study_id)
        return Response(
            {"segmentations": selectors.study_segmentations(user=request.user, study=study)}
        )


class StudySegmentationLabelmapApi(APIView):
    """GET /api/studies/<id>/segmentations/<series UID>/labelmap: the SEG decoded on the grid of
    its images: {shape, frames, classes, dtype, data (base64 of the gzipped uint8 map)}."""

    @extend_schema(responses=SegLabelmapOutputSerializer)
    def get(self, request, study_id, series_uid):
        from inference.seg_labelmap import seg_series_labelmap

        study = study_for_user(request.user, study_id)
        visible = selectors.study_segmentations(user=request.user, study=study)
        if series_uid not in {s["series_instance_uid"] for s in visible}:
            raise NotFoundError(f"This study has no segmentation series {series_uid}.")
        response = Response(seg_series_labelmap(study=study, series_instance_uid=series_uid))
        response["Cache-Control"] = "private, max-age=300"
        return response


class StudyJobsApi(APIView):
    """GET: the study's jobs, newest first; POST {model_version_id?, rerun?}: queue one."""

    permission_classes = [CanRunJobs]

    class InputSerializer(serializers.Serializer):
        model_version_id = serializers.UUIDField(required=False, allow_null=True)
        rerun = serializers.BooleanField(required=False, default=False)

    @extend_schema(responses=JobOutputSerializer(many=True))
    def get(self, request, study_id):
        study = study_for_user(request.user, study_id)
        allowed = selectors.ai_access_check(request.user, study)
        jobs = selectors.study_jobs(study=study, allowed=allowed)
        return Response([selectors.job_output(job) for job in jobs])

    @extend_schema(
        request=InputSerializer, responses={200: JobOutputSerializer, 201: JobOutputSerializer}
    )
    def post(self, request, study_id):
        study = study_for_user(request.user, study_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job, created = services.inference_job_create(
            study=study,
            user=request.user,
            model_version_id=data.validated_data.get("model_version_id"),
            rerun=data.validated_data["rerun"],
        )
        _audit_run(request, job, created)
        return _job_response(job, created)


class ModelVersionListApi(APIView):
    @extend_schema(responses=ModelVersionDetailOutputSerializer(many=True))
    def get(self, request):
        return Response(
            [selectors.model_version_output(m, full=True) for m in selectors.model_versions_list()]
        )


class ModelVersionActivateApi(APIView):
    permission_classes = [CanManageModels]

    @extend_schema(request=None, responses=ModelVersionDetailOutputSerializer)
    def post(self, request, model_version_id):
        model_version = ModelVersion.objects.filter(id=model_version_id).first()
        if model_version is None:
            raise NotFoundError(f"No model version with id {model_version_id}.")
        services.model_version_activate(model_version=model_version)
        model_version.refresh_from_db()
        audit_record(
            action="model.activate",
            request=request,
            object_type="model_version",
            object_id=model_version.id,
            details={"name": model_version.name, "version": model_version.version},
        )
        return Response(selectors.model_version_output(model_version, full=True))
