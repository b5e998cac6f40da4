"""REST API of the audit trail: /api/audit/events.csv (admins; the export itself is audited)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

from audit.models import AuditOutcome
from audit.permissions import CanReadAudit
from audit.selectors import audit_event_list, audit_events_csv
from audit.services import audit_record


class _CsvNegotiation(BaseContentNegotiation):
    """The answer is CSV whatever the Accept header; errors stay JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AuditExportApi(APIView):
    """GET the audit trail as CSV, filtered; one audit event records the export."""

    permission_classes = [CanReadAudit]
    content_negotiation_class = _CsvNegotiation

    class FilterSerializer(serializers.Serializer):
        actor = serializers.CharField(required=False, allow_blank=True, max_length=150)
        action = serializers.CharField(required=False, allow_blank=True, max_length=64)
        object_type = serializers.CharField(required=False, allow_blank=True, max_length=64)
        object_id = serializers.CharField(required=False, allow_blank=True, max_length=128)
        outcome = serializers.ChoiceField(choices=AuditOutcome.choices, required=False)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)

    @extend_schema(
        parameters=[FilterSerializer],
        responses={(200, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR)},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        events = audit_event_list(**filters.validated_data)
        # Recorded before the rows are read, so the export lists itself.
        audit_record(
            action="audit.export",
            request=request,
            object_type="audit",
            details={k: str(v) for k, v in filters.validated_data.items()},
        )
        response = StreamingHttpResponse(
            audit_events_csv(events), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        return response
