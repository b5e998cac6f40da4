"""REST API of reports: /api/studies/<id>/report[...] and /api/reports/[...]."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditOutcome
from audit.services import audit_record, view_window_seconds
from core.exceptions import ApplicationError
from reports import selectors, services
from reports.permissions import CanImportExport, CanReadOrWriteReports


class ReportSaveInputSerializer(serializers.Serializer):
    history = serializers.CharField(
        allow_blank=True, required=False, default="", trim_whitespace=False
    )
    findings = serializers.CharField(
        allow_blank=True, required=False, default="", trim_whitespace=False
    )
    impression = serializers.CharField(
        allow_blank=True, required=False, default="", trim_whitespace=False
    )
    base_version = serializers.IntegerField(
        min_value=0, allow_null=True, required=False, default=None
    )

    def to_internal_value(self, data):
        # Accept the viewer's first draft names too: clinical_history, version.
        if isinstance(data, dict):
            data = dict(data)
            if "clinical_history" in data and "history" not in data:
                data["history"] = data.pop("clinical_history")
            if "version" in data and "base_version" not in data:
                data["base_version"] = data.pop("version")
        return super().to_internal_value(data)


class StudyReportApi(APIView):
    """GET the current report; PUT a new version (409 with the current one on a conflict)."""

    permission_classes = [CanReadOrWriteReports]

    def get(self, request, study_id):
        study = selectors.study_for_user(request.user, study_id)
        report = selectors.report_get(study=study)
        audit_record(
            action="report.view",
            request=request,
            object_type="study",
            object_id=study.id,
            coalesce_seconds=view_window_seconds(),
        )
        return Response(selectors.report_output(report))

    @extend_schema(request=ReportSaveInputSerializer)
    def put(self, request, study_id):
        study = selectors.study_for_user(request.user, study_id)
        data = ReportSaveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report, created = services.report_save(
            study=study, user=request.user, **data.validated_data
        )
        if created:
            audit_record(
                action="report.edit",
                request=request,
                object_type="study",
                object_id=study.id,
                details={"report_id": str(report.id), "version": report.version},
            )
        return Response(
            selectors.report_output(report),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ReportSignApi(APIView):
    permission_classes = [CanReadOrWriteReports]

    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1, required=False, allow_null=True)

    @extend_schema(request=InputSerializer)
    def post(self, request, study_id):
        study = selectors.study_for_user(request.user, study_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.report_sign(
            study=study, user=request.user, version=data.validated_data.get("version")
        )
        audit_record(
            action="report.sign",
            request=request,
            object_type="study",
            object_id=study.id,
            details={"report_id": str(report.id), "version": report.signed_version},
        )
        return Response(selectors.report_output(report))


class ReportAddendumApi(APIView):
    permission_classes = [CanReadOrWriteReports]

    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(max_length=services.MAX_FIELD_LENGTH)

    @extend_schema(request=InputSerializer)
    def post(self, request, study_id):
        study = selectors.study_for_user(request.user, study_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        addendum = services.report_addendum_add(
            study=study, user=request.user, text=data.validated_data["text"]
        )
        audit_record(
            action="report.addendum",
            request=request,
            object_type="study",
            object_id=study.id,
            details={"report_id": str(addendum.report_id), "number": addendum.number},
        )
        report = selectors.report_get(study=study)
        return Response(selectors.report_output(report), status=status.HTTP_201_CREATED)


class ReportVersionsApi(APIView):
    permission_classes = [CanReadOrWriteReports]

    def get(self, request, study_id):
        study = selectors.study_for_user(request.user, study_id)
        versions = selectors.report_versions(study=study)
        return Response([selectors.version_output(v) for v in versions])


class ReportPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class ReportListApi(APIView):
    """GET /api/reports/?search=骨转移&status=signed&author=zhang"""

    permission_classes = [CanReadOrWriteReports]

    def get(self, request):
        reports = selectors.report_list(
            user=request.user,
            search=request.query_params.get("search", ""),
            status=request.query_params.get("status", ""),
            author=request.query_params.get("author", ""),
        )
        paginator = ReportPagination()
        page = paginator.paginate_queryset(reports, request, view=self)
        return paginator.get_paginated_response([selectors.report_list_item(r) for r in page])


class ReportImportApi(APIView):
    """POST a CSV or JSON file (multipart field ``file``) or a JSON body (a list of rows)."""

    permission_classes = [CanImportExport]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def post(self, request):
        upload = request.FILES.get("file")
        if upload is not None:
            rows = services.parse_import_file(
                data=upload.read(),
                filename=upload.name or "",
                content_type=upload.content_type or "",
            )
        elif isinstance(request.data, list) or (
            hasattr(request.data, "get") and isinstance(request.data.get("reports"), list)
        ):
            rows = request.data if isinstance(request.data, list) else request.data["reports"]
        else:
            raise ApplicationError(
                "Send a CSV or JSON file in the form field 'file', or a JSON list of rows."
            )
        results = [r.as_dict() for r in services.reports_import(rows=rows, user=request.user)]
        counts = {
            key: sum(r["status"] == key for r in results)
            for key in ("imported", "skipped", "error")
        }
        audit_record(
            action="report.import",
            request=request,
            object_type="report",
            outcome=AuditOutcome.SUCCESS if counts["imported"] else AuditOutcome.FAILURE,
            details={
                "counts": counts,
                "rows": [
                    {k: r[k] for k in ("row", "status", "reason", "study_id", "report_version")}
                    for r in results
                ],
            },
        )
        return Response({"counts": counts, "rows": results})


class _FileNegotiation(DefaultContentNegotiation):
    """``?format=csv`` names the export file type here, not a DRF renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ReportExportApi(APIView):
    """GET /api/reports/export?format=csv|json&deidentify=1 (same filters as the list)."""

    permission_classes = [CanImportExport]
    content_negotiation_class = _FileNegotiation

    def get(self, request):
        fmt = request.query_params.get("format", "csv").lower()
        if fmt not in ("csv", "json"):
            raise ApplicationError("format must be csv or json.")
        deidentify = request.query_params.get("deidentify", "").lower() in ("1", "true", "yes")
        reports = selectors.report_list(
            user=request.user,
            search=request.query_params.get("search", ""),
            status=request.query_params.get("status", ""),
            author=request.query_params.get("author", ""),
        )
        body, ext = selectors.reports_export(reports=reports, fmt=fmt, deidentify=deidentify)
        audit_record(
            action="report.export",
            request=request,
            object_type="report",
            details={
                "format": ext,
                "deidentify": deidentify,
                "count": reports.count(),
                "filters": {k: v for k, v in request.query_params.items() if k != "format"},
            },
        )
        content_type = "application/json" if ext == "json" else "text/csv; charset=utf-8"
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="reports.{ext}"'
        return response
