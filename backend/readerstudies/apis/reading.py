"""Reader API ("My reading"): /api/reader-studies/my-reading/... — only the caller's own
sessions and readings; never ground truth or other readers' answers."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from readerstudies.selectors import reading as sel
from readerstudies.services import reading as services


class AnswerSerializer(serializers.Serializer):
    """The answer (every field optional: autosave sends what it has)."""

    metastasis_present = serializers.BooleanField(required=False, allow_null=True)
    confidence = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=100
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=5000
    )
    lesions = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True, max_length=200
    )


def _answer(request) -> dict:
    data = AnswerSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


class MyReadingApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(sel.my_reading(user=request.user))


class MyReadingDetailApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, reading_id):
        reading = sel.reading_detail_for_reader(user=request.user, reading_id=reading_id)
        return Response(sel.reading_output(reading))


class MyReadingOpenApi(APIView):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, reading_id):
        reading = sel.reading_get_for_reader(user=request.user, reading_id=reading_id)
        reading = services.reading_open(reading=reading, user=request.user)
        return Response(sel.reading_output(reading))


class MyReadingAnswerApi(APIView):
    @extend_schema(request=AnswerSerializer, responses=OpenApiTypes.OBJECT)
    def put(self, request, reading_id):
        reading = sel.reading_get_for_reader(user=request.user, reading_id=reading_id)
        reading = services.reading_answer_save(
            reading=reading, user=request.user, data=_answer(request)
        )
        return Response(sel.reading_output(reading))


class MyReadingSubmitApi(APIView):
    @extend_schema(request=AnswerSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, reading_id):
        reading = sel.reading_get_for_reader(user=request.user, reading_id=reading_id)
        reading, upcoming, completed = services.reading_submit(
            reading=reading, user=request.user, data=_answer(request)
        )
        return Response(
            {
                "reading": sel.reading_output(reading),
                "next_reading_id": str(upcoming.id) if upcoming else None,
                "session_completed": completed,
            }
        )
