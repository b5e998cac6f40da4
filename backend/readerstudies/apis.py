from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from readerstudies.models import EventKind
from readerstudies.selectors import case_view_get_for_user
from readerstudies.services import reading_events_record

MAX_EVENTS_PER_BATCH = 500


class CaseViewOutputSerializer(serializers.Serializer):
    view_id = serializers.UUIDField(source="client_view_id")
    study_id = serializers.UUIDField()
    opened_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    ended_by = serializers.CharField()
    total_seconds = serializers.FloatField()
    active_seconds = serializers.FloatField()
    event_count = serializers.IntegerField()


class ReadingEventsApi(APIView):
    """The viewer's reading-timer events, in batches; replays are recognised by event id."""

    class EventSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        view_id = serializers.UUIDField()
        study_id = serializers.UUIDField()
        type = serializers.ChoiceField(choices=EventKind.choices)
        client_time = serializers.DateTimeField()
        sequence = serializers.IntegerField(min_value=0)
        session_id = serializers.UUIDField(required=False, allow_null=True)

    class InputSerializer(serializers.Serializer):
        events = serializers.ListField(min_length=1, max_length=MAX_EVENTS_PER_BATCH)
        sent_at = serializers.DateTimeField(
            required=False, allow_null=True, help_text="client clock when the batch was sent"
        )

    class OutputSerializer(serializers.Serializer):
        accepted = serializers.ListField(child=serializers.UUIDField())
        duplicates = serializers.ListField(child=serializers.UUIDField())
        case_views = CaseViewOutputSerializer(many=True)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        batch = self.InputSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        events = self.EventSerializer(data=batch.validated_data["events"], many=True)
        events.is_valid(raise_exception=True)
        result = reading_events_record(
            user=request.user,
            events=events.validated_data,
            sent_at=batch.validated_data.get("sent_at"),
        )
        return Response(
            {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "case_views": CaseViewOutputSerializer(result.case_views, many=True).data,
            }
        )


class CaseViewDetailApi(APIView):
    @extend_schema(responses=CaseViewOutputSerializer)
    def get(self, request, view_id):
        return Response(
            CaseViewOutputSerializer(
                case_view_get_for_user(user=request.user, view_id=view_id)
            ).data
        )
