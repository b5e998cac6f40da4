"""Study-admin API: /api/reader-studies/... (design, cases, truth, readers, schedule, AI,
states, progress, readings, flags). Thin: validate, call one service or selector, serialize."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import has_role
from core.exceptions import ApplicationError, NotFoundError
from readerstudies.models import AiTextSource, Design, ReaderAssignment
from readerstudies.selectors import design as sel
from readerstudies.selectors import progress
from readerstudies.services import ai as ai_services
from readerstudies.services import design as services
from readerstudies.services import reading as reading_services
from readerstudies.services import sessions as session_services
from readerstudies.services import truth as truth_services


# The list endpoints answer a JSON array of objects.
class _ObjectSerializer(serializers.Serializer):
    """Any JSON object (the fields are documented in docs/reader-studies-api.md)."""


OBJECT_LIST = _ObjectSerializer(many=True)


def _admin_study(request, reader_study_id):
    return sel.reader_study_get_for_admin(user=request.user, reader_study_id=reader_study_id)


def _users(ids) -> list:
    users = list(get_user_model().objects.filter(id__in=ids))
    missing = set(ids) - {u.id for u in users}
    if missing:
        raise ApplicationError(
            f"No user with id {', '.join(str(i) for i in sorted(missing))}.",
            extra={"code": "unknown_user"},
        )
    not_admin = [u.username for u in users if not has_role(u, Role.STUDY_ADMIN, Role.ADMIN)]
    if not_admin:
        raise ApplicationError(
            f"Only study admins and admins can administer a study: {', '.join(not_admin)}.",
            extra={"code": "not_a_study_admin"},
        )
    return users


class StudySettingsSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    design = serializers.ChoiceField(choices=Design.choices, required=False)
    washout_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    ai_text_source = serializers.ChoiceField(choices=AiTextSource.choices, required=False)
    max_case_seconds = serializers.IntegerField(min_value=60, max_value=86400, required=False)
    seed = serializers.IntegerField(min_value=0, max_value=2**62, required=False)
    admin_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=100
    )


class ReaderStudyListApi(APIView):
    @extend_schema(responses=OBJECT_LIST, operation_id="reader_studies_list")
    def get(self, request):
        if not has_role(request.user, Role.ADMIN, Role.STUDY_ADMIN):
            raise ApplicationError(
                "Only study admins and admins manage reader studies.", status_code=403
            )
        return Response(
            [sel.reader_study_summary(s) for s in sel.reader_studies_for_admin(user=request.user)]
        )

    @extend_schema(request=StudySettingsSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        if not has_role(request.user, Role.ADMIN, Role.STUDY_ADMIN):
            raise ApplicationError(
                "Only study admins and admins create reader studies.", status_code=403
            )
        data = StudySettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        admins = _users(fields.pop("admin_ids", []))
        reader_study = services.reader_study_create(user=request.user, admins=admins, **fields)
        return Response(sel.reader_study_detail(reader_study), status=status.HTTP_201_CREATED)


class ReaderStudyDetailApi(APIView):
    class ReaderStudyPatchInput(StudySettingsSerializer):
        title = serializers.CharField(max_length=200, required=False)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, reader_study_id):
        return Response(sel.reader_study_detail(_admin_study(request, reader_study_id)))

    @extend_schema(request=ReaderStudyPatchInput, responses=OpenApiTypes.OBJECT)
    def patch(self, request, reader_study_id):
        reader_study = _admin_study(request, reader_study_id)
        data = self.ReaderStudyPatchInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        admin_ids = fields.pop("admin_ids", None)
        reader_study = services.reader_study_update(
            reader_study=reader_study,
            user=request.user,
            admins=_users(admin_ids) if admin_ids is not None else None,
            **fields,
        )
        return Response(sel.reader_study_detail(reader_study))


class CasesApi(APIView):
    class CasesInput(serializers.Serializer):
        study_ids = serializers.ListField(
            child=serializers.UUIDField(), min_length=1, max_length=1000
        )

    @extend_schema(responses=OBJECT_LIST, operation_id="reader_study_cases_list")
    def get(self, request, reader_study_id):
        reader_study = _admin_study(request, reader_study_id)
        return Response([sel.case_output(c) for c in sel.cases_list(reader_study=reader_study)])

    @extend_schema(request=CasesInput, responses=OBJECT_LIST)
    def post(self, request, reader_study_id):
        reader_study = _admin_study(request, reader_study_id)
        data = self.CasesInput(data=request.data)
        data.is_valid(raise_exception=True)
        cases = services.reader_study_cases_add(
            reader_study=reader_study, user=request.user, study_ids=data.validated_data["study_ids"]
        )
        return Response([sel.case_output(c) for c in cases], status=status.HTTP_201_CREATED)


class CaseDetailApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, reader_study_id, case_id):
        case = sel.case_get(reader_study=_admin_study(request, reader_study_id), case_id=case_id)
        return Response(sel.case_output(case))

    @extend_schema(responses={204: None})
    def delete(self, request, reader_study_id, case_id):
        case = sel.case_get(reader_study=_admin_study(request, reader_study_id), case_id=case_id)
        services.reader_study_case_remove(case=case, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CaseTruthApi(APIView):
    class CaseTruthInput(serializers.Serializer):
        metastasis_present = serializers.BooleanField()
        lesions = serializers.ListField(
            child=serializers.DictField(), required=False, max_length=500
        )

    @extend_schema(request=CaseTruthInput, responses=OpenApiTypes.OBJECT)
    def put(self, request, reader_study_id, case_id):
        case = sel.case_get(reader_study=_admin_study(request, reader_study_id), case_id=case_id)
        data = self.CaseTruthInput(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_truth_set(
            case=case,
            user=request.user,
            metastasis_present=data.validated_data["metastasis_present"],
            lesions=data.validated_data.get("lesions", []),
        )
        return Response(sel.case_output(case))


class CaseTruthFromSegApi(APIView):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, reader_study_id, case_id):
        case = sel.case_get(reader_study=_admin_study(request, reader_study_id), case_id=case_id)
        case = truth_services.case_truth_from_seg(case=case, user=request.user)
        return Response(sel.case_output(case))


class TruthImportApi(APIView):
    @extend_schema(
        request={"text/csv": OpenApiTypes.STR, "multipart/form-data": OpenApiTypes.OBJECT},
        responses=OpenApiTypes.OBJECT,
    )
    def post(self, request, reader_study_id):
        reader_study = _admin_study(request, reader_study_id)
        if (request.content_type or "").startswith("text/csv"):
            content = request.body
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise ApplicationError(
                    "Send the CSV as the multipart field 'file' or as a text/csv body.",
                    extra={"code": "csv_invalid"},
                )
            content = upload.read(truth_services.MAX_CSV_BYTES + 1)
        result = truth_services.truth_csv_import(
            reader_study=reader_study, user=request.user, data=content
        )
        return Response(result)


class ReadersApi(APIView):
    class ReadersInput(serializers.Serializer):
        user_id = serializers.IntegerField(required=False, min_value=1)
        username = serializers.CharField(required=False, max_length=150)

        def validate(self, attrs):
            if bool(attrs.get("user_id")) == bool(attrs.get("username")):
                raise serializers.ValidationError("Give either user_id or username.")
            return attrs

    @extend_schema(responses=OBJECT_LIST)
    def get(self, request, reader_study_id):
        return Response(sel.readers_output(reader_study=_admin_study(request, reader_study_id)))

    @extend_schema(request=ReadersInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, reader_study_id):
        reader_study = _admin_study(request, reader_study_id)
        data = self.ReadersInput(data=request.data)
        data.is_valid(raise_exception=True)
        users = get_user_model().objects
        if data.validated_data.get("user_id"):
            reader = users.filter(id=data.validated_data["user_id"]).first()
        else:
            reader = users.filter(username=data.validated_data["username"]).first()
        if reader is None:
            raise ApplicationError("No such user.", extra={"code": "unknown_user"})
        assignment = services.reader_study_reader_add(
            reader_study=reader_study, user=request.user, reader=reader
        )
        return Response(
            {"user": sel.user_ref(reader), "first_arm": None, "added_at": assignment.created},
            status=status.HTTP_201_CREATED,
        )


class ReaderDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, reader_study_id, user_id):
        reader_study = _admin_study(request, reader_study_id)
        assignment = ReaderAssignment.objects.filter(
            reader_study=reader_study, reader_id=user_id
        ).first()
        if assignment is None:
            raise NotFoundError(f"User {user_id} is not a reader of this study.")
        services.reader_study_reader_remove(assignment=assignment, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CandidateReadersApi(APIView):
    @extend_schema(responses=OBJECT_LIST)
    def get(self, request):
        if not has_role(request.user, Role.ADMIN, Role.STUDY_ADMIN):
            raise ApplicationError("Only study admins and admins list readers.", status_code=403)
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        return Response([sel.user_ref(u) for u in users if has_role(u, Role.READER)])


class CandidateStudiesApi(APIView):
    """Archive studies to pick cases from (study admins cannot browse the clinical worklist)."""

    @extend_schema(responses=OBJECT_LIST)
    def get(self, request):
        if not has_role(request.user, Role.ADMIN, Role.STUDY_ADMIN):
            raise ApplicationError("Only study admins and admins pick cases.", status_code=403)
        params = request.query_params
        try:
            limit = min(max(int(params.get("limit", 100)), 1), 1000)
        except ValueError as exc:
            raise ApplicationError("limit must be an integer.") from exc
        query = params.get("q", "")[:100]
        if "\x00" in query:
            raise ApplicationError("q must not contain NUL bytes.")
        return Response(
            sel.candidate_studies(kind=params.get("kind", "")[:16], query=query, limit=limit)
        )


class ScheduleApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, reader_study_id):
        return Response(sel.schedule_output(reader_study=_admin_study(request, reader_study_id)))


class AiProgressApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, reader_study_id):
        return Response(sel.ai_progress(reader_study=_admin_study(request, reader_study_id)))


class AiPrecomputeApi(APIView):
    class AiPrecomputeInput(serializers.Serializer):
        model_version_id = serializers.UUIDField(required=False, allow_null=True)

    @extend_schema(request=AiPrecomputeInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, reader_study_id):
        reader_study = _admin_study(request, reader_study_id)
        data = self.AiPrecomputeInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = ai_services.reader_study_ai_precompute(
            reader_study=reader_study,
            user=request.user,
            model_version_id=data.validated_data.get("model_version_id"),
        )
        return Response(result, status=status.HTTP_202_ACCEPTED)


class AiFreezeApi(APIView):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, reader_study_id):
        reader_study = _admin_study(request, reader_study_id)
        ai_services.reader_study_ai_freeze(reader_study=reader_study, user=request.user)
        return Response(sel.ai_progress(reader_study=reader_study))


class StartApi(APIView):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, reader_study_id):
        reader_study = services.reader_study_start(
            reader_study=_admin_study(request, reader_study_id), user=request.user
        )
        return Response(sel.reader_study_detail(reader_study))


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


def _transition_api(action: str):
    class TransitionApi(APIView):
        @extend_schema(request=ReasonSerializer, responses=OpenApiTypes.OBJECT)
        def post(self, request, reader_study_id):
            reader_study = _admin_study(request, reader_study_id)
            data = ReasonSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            reader_study = services.reader_study_transition(
                reader_study=reader_study,
                user=request.user,
                action=action,
                reason=data.validated_data.get("reason", ""),
            )
            return Response(sel.reader_study_detail(reader_study))

    TransitionApi.__name__ = f"{action.title()}Api"
    return TransitionApi


PauseApi = _transition_api("pause")
ResumeApi = _transition_api("resume")
CloseApi = _transition_api("close")


class ProgressApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, reader_study_id):
        return Response(
            progress.progress_output(reader_study=_admin_study(request, reader_study_id))
        )


class SessionStartApi(APIView):
    class SessionStartInput(serializers.Serializer):
        override_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    @extend_schema(request=SessionStartInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, reader_study_id, session_id):
        reader_study = _admin_study(request, reader_study_id)
        session = sel.session_get_for_admin(reader_study=reader_study, session_id=session_id)
        data = self.SessionStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        session_services.reader_session_start(
            session=session,
            user=request.user,
            override_reason=data.validated_data.get("override_reason", ""),
            by_admin=True,
        )
        return Response(progress.progress_output(reader_study=reader_study))


class ReadingsApi(APIView):
    @extend_schema(responses=OBJECT_LIST)
    def get(self, request, reader_study_id):
        reader_study = _admin_study(request, reader_study_id)
        params = request.query_params
        try:
            reader = int(params["reader"]) if params.get("reader") else None
            session = int(params["session"]) if params.get("session") else None
        except ValueError as exc:
            raise ApplicationError("reader and session must be integers.") from exc
        if any(v is not None and not 0 < v < 2**31 for v in (reader, session)):
            raise ApplicationError("reader and session must be positive integers.")
        include_flagged = params.get("include_flagged") in ("1", "true")
        include_paused = params.get("include_paused") in ("1", "true")
        readings = progress.readings_list(
            reader_study=reader_study, reader_id=reader, session_number=session
        )
        pauses = progress.study_paused_intervals(reader_study)
        return Response(
            [
                progress.admin_reading_output(
                    r, include_flagged=include_flagged, include_paused=include_paused, paused=pauses
                )
                for r in readings
            ]
        )


class ReadingReopenApi(APIView):
    @extend_schema(request=ReasonSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, reader_study_id, reading_id):
        reader_study = _admin_study(request, reader_study_id)
        reading = sel.reading_get_for_admin(reader_study=reader_study, reading_id=reading_id)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reading = reading_services.reading_reopen(
            reading=reading, user=request.user, reason=data.validated_data.get("reason", "")
        )
        return Response(progress.admin_reading_output(reading))


class ReadingCorrectApi(APIView):
    class ReadingCorrectInput(serializers.Serializer):
        answer = serializers.DictField()
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=ReadingCorrectInput, responses=OpenApiTypes.OBJECT)
    def put(self, request, reader_study_id, reading_id):
        reader_study = _admin_study(request, reader_study_id)
        reading = sel.reading_get_for_admin(reader_study=reader_study, reading_id=reading_id)
        data = self.ReadingCorrectInput(data=request.data)
        data.is_valid(raise_exception=True)
        reading = reading_services.reading_answer_correct(
            reading=reading,
            user=request.user,
            data=data.validated_data["answer"],
            reason=data.validated_data["reason"],
        )
        return Response(progress.admin_reading_output(reading))


class FlagsApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, reader_study_id):
        return Response(progress.flags_output(reader_study=_admin_study(request, reader_study_id)))
