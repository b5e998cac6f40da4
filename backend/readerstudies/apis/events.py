"""Reading-timer API: /api/reading-events/ (batches of events), the server clock, case views."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from readerstudies.selectors import case_view_get_for_user
from readerstudies.services.events import EventSerializer, reading_events_record

MAX_EVENTS_PER_BATCH = 500


class CaseViewOutputSerializer(serializers.Serializer):
    view_id = serializers.UUIDField(source="client_view_id")
    study_id = serializers.UUIDField()
    reading_id = serializers.UUIDField(allow_null=True)
    arm = serializers.CharField()
    ai_shown = serializers.BooleanField()
    opened_at = serializers.DateTimeField()
    first_image_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    ended_by = serializers.CharField()
    total_seconds = serializers.FloatField()
    image_seconds = serializers.FloatField()
    active_seconds = serializers.FloatField()
    event_count = serializers.IntegerField()
    flagged = serializers.BooleanField()
    flag_reasons = serializers.ListField(child=serializers.CharField())


class ReadingEventsApi(APIView):
    """The viewer's reading-timer events, in batches. Each event gets its own verdict
    (accepted, duplicate or rejected with a code); one refused event never blocks the others."""

    class ReadingEventsInput(serializers.Serializer):
        events = serializers.ListField(
            child=serializers.JSONField(), min_length=1, max_length=MAX_EVENTS_PER_BATCH
        )
        sent_at = serializers.DateTimeField(
            required=False, allow_null=True, help_text="client clock when the batch was sent"
        )
        clock_offset_ms = serializers.FloatField(
            required=False,
            allow_null=True,
            min_value=-(2 * 86400 * 1000),
            max_value=2 * 86400 * 1000,
            help_text="the client's estimate of server minus client clock (half round trip)",
        )

    class ReadingEventsOutput(serializers.Serializer):
        results = serializers.ListField(child=serializers.DictField())
        accepted = serializers.ListField(child=serializers.CharField())
        duplicates = serializers.ListField(child=serializers.CharField())
        rejected = serializers.ListField(child=serializers.DictField())
        case_views = CaseViewOutputSerializer(many=True)

    @extend_schema(
        request=ReadingEventsInput,
        responses=ReadingEventsOutput,
        description="Events: " + ", ".join(EventSerializer().fields),
    )
    def post(self, request):
        batch = self.ReadingEventsInput(data=request.data)
        batch.is_valid(raise_exception=True)
        result = reading_events_record(
            user=request.user,
            events=batch.validated_data["events"],
            sent_at=batch.validated_data.get("sent_at"),
            client_offset_ms=batch.validated_data.get("clock_offset_ms"),
        )
        return Response(
            {
                "results": result.results,
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "rejected": result.rejected,
                "case_views": CaseViewOutputSerializer(result.case_views, many=True).data,
            }
        )


class ServerClockApi(APIView):
    """The server's clock, for the client's offset estimate (use half the round trip)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response({"server_time": timezone.now().isoformat()})


class CaseViewDetailApi(APIView):
    @extend_schema(responses=CaseViewOutputSerializer)
    def get(self, request, view_id):
        return Response(
            CaseViewOutputSerializer(
                case_view_get_for_user(user=request.user, view_id=view_id)
            ).data
        )
