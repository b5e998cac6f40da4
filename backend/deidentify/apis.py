"""GET /api/studies/<id>/deidentified-export: the study, de-identified, as a zip (audited)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

from audit.services import audit_record
from deidentify.permissions import CanExportDeidentified
from deidentify.services import study_deidentified_zip
from studies import selectors as study_selectors


class _ZipNegotiation(BaseContentNegotiation):
    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class StudyDeidentifiedExportApi(APIView):
    permission_classes = [CanExportDeidentified]
    content_negotiation_class = _ZipNegotiation

    @extend_schema(responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request, study_id):
        study = study_selectors.study_get_for_user(request.user, study_id)
        instances = list(
            study_selectors.instance_queryset_for_user(request.user, study=study)
            .select_related("series")
            .order_by("series__series_number", "instance_number", "created")
        )
        body, filename = study_deidentified_zip(study=study, instances=instances)
        audit_record(
            action="study.export_deidentified",
            request=request,
            object_type="study",
            object_id=study.id,
            details={"instances": len(instances), "bytes": len(body), "file": filename},
        )
        response = HttpResponse(body, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
