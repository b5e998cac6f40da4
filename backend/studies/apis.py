"""REST API of the archive (/api/studies/...) and WADO-URI (/wado).

DICOMweb (QIDO-RS, WADO-RS, STOW-RS) lives in :mod:`studies.dicomweb`.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiTokenAuthentication, ThrottledBasicAuthentication
from audit.models import AuditOutcome
from audit.services import audit_record, view_window_seconds
from core.exceptions import ApplicationError, NotFoundError
from inference.models import JobState
from reports.models import ReportStatus
from studies import selectors
from studies.models import IngestSource, Instance, StudyKind
from studies.permissions import CanIngestOrReadOnly
from studies.selectors import STUDY_ORDERINGS
from studies.services import IngestStatus, UploadRejected, files_ingest

# DICOM clients (dicomweb-client, OHIF, scripts) authenticate with a token or basic auth
# (lock-out and a cached verification: see accounts.authentication).
DICOM_AUTHENTICATION = [SessionAuthentication, ApiTokenAuthentication, ThrottledBasicAuthentication]


# --- serializers (output) ------------------------------------------------------------------


class PatientOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    patient_id = serializers.CharField()
    name = serializers.CharField()
    sex = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)


class StudySummaryOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    study_instance_uid = serializers.CharField()
    patient = PatientOutputSerializer()
    study_date = serializers.DateField(allow_null=True)
    study_time = serializers.TimeField(allow_null=True)
    accession_number = serializers.CharField()
    description = serializers.CharField()
    modalities = serializers.ListField(child=serializers.CharField(), source="image_modality_list")
    kind = serializers.ChoiceField(choices=StudyKind.choices)
    number_of_series = serializers.IntegerField()
    number_of_instances = serializers.IntegerField()
    report_status = serializers.CharField(allow_null=True)
    ai_status = serializers.CharField(allow_null=True)


class InstanceOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    sop_instance_uid = serializers.CharField()
    sop_class_uid = serializers.CharField()
    instance_number = serializers.IntegerField(allow_null=True)
    number_of_frames = serializers.IntegerField(allow_null=True)
    rows = serializers.IntegerField(allow_null=True)
    columns = serializers.IntegerField(allow_null=True)
    transfer_syntax_uid = serializers.CharField()
    # Planar NM: "anterior"/"posterior" per frame; `view` when the instance has one view only.
    frame_views = serializers.ListField(child=serializers.CharField())
    view = serializers.CharField(allow_null=True)
    wado_uri = serializers.CharField()


class SeriesOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    series_instance_uid = serializers.CharField()
    modality = serializers.CharField()
    description = serializers.CharField()
    series_number = serializers.IntegerField(allow_null=True)
    body_part_examined = serializers.CharField()
    number_of_instances = serializers.IntegerField()
    instances = InstanceOutputSerializer(many=True, source="instance_list")


class StudyDetailOutputSerializer(StudySummaryOutputSerializer):
    series = SeriesOutputSerializer(many=True)


class StudyPageOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = StudySummaryOutputSerializer(many=True)


class UploadRowOutputSerializer(serializers.Serializer):
    file = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField()
    sop_instance_uid = serializers.CharField(allow_null=True)
    instance_id = serializers.UUIDField(allow_null=True)
    series_id = serializers.UUIDField(allow_null=True)
    study_id = serializers.UUIDField(allow_null=True)


class StudyUploadOutputSerializer(serializers.Serializer):
    stored = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = UploadRowOutputSerializer(many=True)


def _study_detail_data(study) -> dict[str, Any]:
    for series in study.series.all():
        instances = list(series.instances.all())
        for instance in instances:
            instance.wado_uri = selectors.wado_uri(
                instance,
                study_uid=study.study_instance_uid,
                series_uid=series.series_instance_uid,
            )
            views = instance.frame_views or []
            instance.view = views[0] if len(views) == 1 else None
        series.number_of_instances = len(instances)
        series.instance_list = instances
    return StudyDetailOutputSerializer(study).data


# --- worklist and study detail -------------------------------------------------------------


class StudyPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 500


class StatusListField(serializers.CharField):
    """Statuses separated by commas; "none" selects studies without a report / without a job."""

    def __init__(self, *, choices: list[str], **kwargs: Any) -> None:
        self.allowed = [*choices, "none"]
        super().__init__(required=False, allow_blank=True, max_length=200, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        unknown = [v.strip() for v in value.split(",") if v.strip() not in self.allowed]
        if unknown:
            raise serializers.ValidationError(
                f"unknown value(s) {', '.join(unknown)}; use {', '.join(self.allowed)}"
            )
        return value


class StudyListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        search = serializers.CharField(required=False, allow_blank=True, max_length=200)
        modality = serializers.CharField(required=False, allow_blank=True, max_length=100)
        date_from = serializers.DateField(required=False)
        date_to = serializers.DateField(required=False)
        kind = serializers.ChoiceField(choices=StudyKind.choices, required=False)
        report_status = StatusListField(choices=ReportStatus.values)
        ai_status = StatusListField(choices=JobState.values)
        ordering = serializers.CharField(required=False, allow_blank=True, max_length=200)

        def validate_ordering(self, value: str) -> str:
            for key in [k.strip() for k in value.split(",") if k.strip()]:
                if key.lstrip("-") not in STUDY_ORDERINGS:
                    raise serializers.ValidationError(
                        f"unknown ordering '{key}'; use one of {', '.join(STUDY_ORDERINGS)}"
                    )
            return value

    @extend_schema(
        parameters=[
            FilterSerializer,
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=StudyPageOutputSerializer,
        operation_id="api_studies_list",
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        studies = selectors.study_list(user=request.user, **filters.validated_data)
        paginator = StudyPagination()
        page = paginator.paginate_queryset(studies, request, view=self)
        return paginator.get_paginated_response(StudySummaryOutputSerializer(page, many=True).data)


class StudyDetailApi(APIView):
    @extend_schema(responses=StudyDetailOutputSerializer)
    def get(self, request, study_id):
        try:
            study = selectors.study_get_for_user(request.user, study_id)
        except NotFoundError:
            if selectors.study_exists(study_id):  # there, but not for this user: a refusal
                audit_record(
                    action="study.view",
                    request=request,
                    object_type="study",
                    object_id=study_id,
                    outcome=AuditOutcome.DENIED,
                    coalesce_seconds=view_window_seconds(),
                )
            raise
        # One event per user and case view (the window), not one per request or image.
        audit_record(
            action="study.view",
            request=request,
            object_type="study",
            object_id=study.id,
            coalesce_seconds=view_window_seconds(),
        )
        return Response(_study_detail_data(study))


# --- upload --------------------------------------------------------------------------------


class StudyUploadApi(APIView):
    """Upload DICOM files and/or zips of them (multipart field ``files``, repeated)."""

    parser_classes = [MultiPartParser]
    permission_classes = [CanIngestOrReadOnly]

    @extend_schema(
        request=inline_serializer(
            "StudyUpload", {"files": serializers.ListField(child=serializers.FileField())}
        ),
        responses=StudyUploadOutputSerializer,
    )
    def post(self, request):
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.ARCHIVE_MAX_REQUEST_SIZE:
            raise ApplicationError(
                f"Upload of {length} bytes is larger than the limit of "
                f"{settings.ARCHIVE_MAX_REQUEST_SIZE} bytes (ARCHIVE_MAX_REQUEST_SIZE).",
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        uploads = request.FILES.getlist("files") or list(request.FILES.values())
        if not uploads:
            raise ApplicationError("No files: send them as multipart form field 'files'.")
        try:
            results = files_ingest(
                files=[(upload.name, upload) for upload in uploads],
                source=IngestSource.UPLOAD,
                user=request.user,
            )
        except UploadRejected as exc:
            raise ApplicationError(str(exc), status_code=exc.status_code) from exc
        rows = [result.as_dict() for result in results]
        counts = {
            key: sum(1 for r in results if r.status == key)
            for key in (IngestStatus.STORED, IngestStatus.DUPLICATE, IngestStatus.REJECTED)
        }
        audit_record(
            action="study.upload",
            request=request,
            object_type="study",
            object_id=",".join(sorted({r["study_id"] for r in rows if r["study_id"]}))[:128],
            outcome=AuditOutcome.SUCCESS
            if counts[IngestStatus.STORED] or counts[IngestStatus.DUPLICATE]
            else AuditOutcome.FAILURE,
            details={**counts, "study_ids": sorted({r["study_id"] for r in rows if r["study_id"]})},
        )
        if results and counts[IngestStatus.REJECTED] == len(results):
            conflict = all(r.conflict for r in results)
            first = results[0]
            raise ApplicationError(
                f"Nothing stored: {first.filename or 'file'}: {first.reason}"
                + (f" (and {len(results) - 1} more rejected)" if len(results) > 1 else ""),
                extra={"results": rows, **counts},
                status_code=status.HTTP_409_CONFLICT if conflict else status.HTTP_400_BAD_REQUEST,
            )
        return Response({**counts, "results": rows})


# --- WADO-URI ------------------------------------------------------------------------------


def audit_retrieve(request, study_id, *, channel: str) -> None:
    """Images or DICOM of a study served (WADO-URI, WADO-RS): one audit event per user and
    study within the view window, not one per image."""
    audit_record(
        action="study.retrieve",
        request=request,
        object_type="study",
        object_id=study_id,
        details={"channel": channel},
        coalesce_seconds=view_window_seconds(),
    )


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _etag(instance: Instance) -> str:
    return f'"{instance.sha256}"'


def _file_response(request, instance: Instance) -> HttpResponse:
    etag = _etag(instance)
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
        response["ETag"] = etag
        return response
    size = instance.size
    handle = selectors.instance_file_open(instance)
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if match and (match.group(1) or match.group(2)):
        if match.group(1):
            start = int(match.group(1))
            end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
        else:  # suffix range: the last N bytes
            start, end = max(0, size - int(match.group(2))), size - 1
        if start >= size or start > end:
            handle.close()
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        handle.seek(start)
        body = handle.read(end - start + 1)
        handle.close()
        response = HttpResponse(body, status=206, content_type="application/dicom")
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:

        def chunks(chunk_size: int = 1024 * 1024):
            with handle:
                while block := handle.read(chunk_size):
                    yield block

        response = StreamingHttpResponse(chunks(), content_type="application/dicom")
        response["Content-Length"] = str(size)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=86400, immutable"
    response["Content-Disposition"] = f'inline; filename="{instance.sop_instance_uid}.dcm"'
    return response


def _rendered_response(
    instance: Instance, content_type: str, frame: int, max_size: int | None = None
) -> HttpResponse:
    from studies.rendering import instance_render

    body = instance_render(
        instance, frame=frame, image_format=content_type.split("/")[1], max_size=max_size
    )
    response = HttpResponse(body, content_type=content_type)
    response["ETag"] = f'"{instance.sha256}-{frame}-{content_type.split("/")[1]}"'
    return response


class IgnoreAccept(BaseContentNegotiation):
    """DICOM endpoints answer in their own media types (chosen by the request's parameters, not by
    DRF's renderers); errors are JSON whatever the Accept header. Without this, DRF refuses an
    ``Accept: application/dicom`` request with 406 before the view runs."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class WadoUriApi(APIView):
    """WADO-URI (PS3.18 chapter 9): the stored object, or a rendered JPEG/PNG of one frame."""

    authentication_classes = DICOM_AUTHENTICATION
    content_negotiation_class = IgnoreAccept

    class InputSerializer(serializers.Serializer):
        requestType = serializers.ChoiceField(choices=["WADO"])  # noqa: N815 (DICOM names)
        studyUID = serializers.CharField(max_length=64, required=False)  # noqa: N815
        seriesUID = serializers.CharField(max_length=64, required=False)  # noqa: N815
        objectUID = serializers.CharField(max_length=64)  # noqa: N815
        contentType = serializers.CharField(required=False, default="image/jpeg")  # noqa: N815
        frameNumber = serializers.IntegerField(  # noqa: N815
            required=False, min_value=1, max_value=2**31 - 1, default=1
        )
        transferSyntax = serializers.CharField(required=False, max_length=64)  # noqa: N815
        # Rendered images: the largest edge asked for (at most WADO_RENDERED_MAX_SIZE).
        rows = serializers.IntegerField(required=False)
        columns = serializers.IntegerField(required=False)

        def validate_rows(self, value: int) -> int:
            from studies.rendering import render_size_check

            return render_size_check(value, name="rows")

        def validate_columns(self, value: int) -> int:
            from studies.rendering import render_size_check

            return render_size_check(value, name="columns")

    @extend_schema(
        parameters=[InputSerializer],
        responses={
            (200, "application/dicom"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
        },
    )
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        instance = selectors.instance_get_for_user(
            request.user,
            sop_instance_uid=data["objectUID"],
            series_uid=data.get("seriesUID", ""),
            study_uid=data.get("studyUID", ""),
        )
        audit_retrieve(request, instance.series.study_id, channel="wado-uri")
        accepted = [c.split(";")[0].strip().lower() for c in data["contentType"].split(",")]
        for content_type in accepted:
            if content_type in ("application/dicom", "*/*", "application/*"):
                wanted_syntax = data.get("transferSyntax")
                if wanted_syntax and wanted_syntax != instance.transfer_syntax_uid:
                    raise ApplicationError(
                        f"The instance is stored as {instance.transfer_syntax_uid}; "
                        f"conversion to {wanted_syntax} is not supported.",
                        status_code=status.HTTP_406_NOT_ACCEPTABLE,
                    )
                return _file_response(request, instance)
            if content_type in ("image/jpeg", "image/png", "image/*"):
                if not instance.rows:
                    break
                rendered = "image/jpeg" if content_type == "image/*" else content_type
                sizes = [data[k] for k in ("rows", "columns") if data.get(k)]
                return _rendered_response(
                    instance, rendered, data["frameNumber"], max(sizes) if sizes else None
                )
        raise ApplicationError(
            f"Cannot serve this object as {data['contentType']}; "
            "use application/dicom (or image/jpeg, image/png for images).",
            status_code=status.HTTP_406_NOT_ACCEPTABLE,
        )


# --- live status ---------------------------------------------------------------------------


class StudyStatusApi(APIView):
    """GET /api/studies/status?ids=a,b,c: live report and AI status of up to 100 studies.

    Answers 304 Not Modified when ``If-None-Match`` carries the current ETag, so that open
    worklists and viewers can poll it every few seconds for the cost of one small query.
    """

    @extend_schema(
        parameters=[OpenApiParameter("ids", str, description="comma-separated study ids")],
        responses={
            200: inline_serializer(
                "StudyStatuses", {"studies": serializers.ListField(child=serializers.DictField())}
            ),
            304: None,
        },
    )
    def get(self, request):
        from studies.live_status import parse_status_ids, statuses_etag, study_statuses

        ids = parse_status_ids(request.query_params.get("ids", ""))
        statuses = study_statuses(user=request.user, ids=ids)
        etag = statuses_etag(statuses)
        sent = [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]
        if etag in sent:
            response = HttpResponse(status=status.HTTP_304_NOT_MODIFIED)
        else:
            response = Response({"studies": statuses})
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        return response
