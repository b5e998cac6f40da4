"""Results API of a reader study (study admins of that study, and admins). Thin: validate the
query, call one selector, return JSON or the file."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis import samplesize, selectors
from analysis.exports import EXPORT_KINDS, export_csv
from analysis.plots import PLOTS, plot_render
from analysis.report import report_pdf
from audit.services import audit_record
from core.exceptions import NotFoundError


class ResultsQuerySerializer(serializers.Serializer):
    time = serializers.ChoiceField(choices=["active", "total"], default="active")
    include_flagged = serializers.BooleanField(default=False)
    lang = serializers.ChoiceField(choices=["zh-CN", "zh", "en"], default="zh-CN")
    identified = serializers.BooleanField(default=False)


QUERY_PARAMETERS = [
    OpenApiParameter("time", str, enum=["active", "total"], description="time measure"),
    OpenApiParameter("include_flagged", bool, description="count flagged case views"),
    OpenApiParameter("lang", str, enum=["zh-CN", "zh", "en"]),
]


ERRORS = dict.fromkeys((400, 403, 404), OpenApiTypes.OBJECT)  # {message, extra}


def _query(request):
    query = ResultsQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    selectors.check_options(
        user=request.user, time_measure=data["time"], identified=data["identified"]
    )
    return data


def _options(data) -> dict:
    return {
        "time_measure": data["time"],
        "include_flagged": data["include_flagged"],
        "identified": data["identified"],
    }


class ResultsApi(APIView):
    """The study's analysis as JSON (shape: docs/reader-study-results.md)."""

    @extend_schema(
        operation_id="reader_study_results",
        parameters=QUERY_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request, reader_study_id):
        data = _query(request)
        reader_study = selectors.analysis_reader_study_get(
            user=request.user, reader_study_id=reader_study_id
        )
        return Response(selectors.reader_study_results(reader_study=reader_study, **_options(data)))


class PlotApi(APIView):
    """One plot of the results as PNG (the same image the PDF embeds)."""

    @extend_schema(
        operation_id="reader_study_results_plot",
        parameters=[
            *QUERY_PARAMETERS,
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(PLOTS)),
        ],
        responses={(200, "image/png"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request, reader_study_id, name):
        data = _query(request)
        reader_study = selectors.analysis_reader_study_get(
            user=request.user, reader_study_id=reader_study_id
        )
        if name not in PLOTS:
            raise NotFoundError(
                f"No plot named {name!r}; the plots are: {', '.join(PLOTS)}.",
                extra={"plots": list(PLOTS)},
            )
        results = selectors.reader_study_results(reader_study=reader_study, **_options(data))
        png = plot_render(results=results, name=name, lang=data["lang"])
        response = HttpResponse(png, content_type="image/png")
        response["Cache-Control"] = "private, no-cache"
        return response


class ReportApi(APIView):
    """The printable report (PDF)."""

    @extend_schema(
        operation_id="reader_study_results_report",
        parameters=QUERY_PARAMETERS,
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request, reader_study_id):
        data = _query(request)
        reader_study = selectors.analysis_reader_study_get(
            user=request.user, reader_study_id=reader_study_id
        )
        results = selectors.reader_study_results(reader_study=reader_study, **_options(data))
        pdf = report_pdf(results=results, lang=data["lang"])
        audit_record(
            action="reader_study.report_pdf",
            request=request,
            object_type="reader_study",
            object_id=reader_study.pk,
            details={"bytes": len(pdf), "lang": data["lang"]},
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'inline; filename="reader-study-{reader_study.pk}-report.pdf"'
        )
        return response


class ExportApi(APIView):
    """CSV exports, de-identified unless an admin asks for ``identified=1``."""

    @extend_schema(
        operation_id="reader_study_export",
        parameters=[
            *QUERY_PARAMETERS,
            OpenApiParameter("identified", bool, description="admins only"),
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(EXPORT_KINDS)),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR, **ERRORS},
    )
    def get(self, request, reader_study_id, kind):
        data = _query(request)
        reader_study = selectors.analysis_reader_study_get(
            user=request.user, reader_study_id=reader_study_id
        )
        options = _options(data)
        tables = results = None
        if kind in ("case-times", "answers", "lesions"):
            tables = selectors.reader_study_tables(reader_study=reader_study, **options)
        elif kind == "results":
            results = selectors.reader_study_results(reader_study=reader_study, **options)
        text = export_csv(
            reader_study=reader_study,
            kind=kind,
            tables=tables,
            results=results,
            identified=options["identified"],
        )
        body = text.encode("utf-8-sig")
        audit_record(
            action="reader_study.export",
            request=request,
            object_type="reader_study",
            object_id=reader_study.pk,
            details={"kind": kind, "identified": options["identified"], "bytes": len(body)},
        )
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="reader-study-{reader_study.pk}-{kind}.csv"'
        )
        return response


class SampleSizeApi(APIView):
    """Sample-size planning for a new study: the finished pilot studies to plan from (GET) and
    the readers x cases table for an AUC difference and/or a time ratio (POST; computes only,
    stores nothing)."""

    @extend_schema(
        operation_id="reader_study_sample_size_pilots",
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request):
        samplesize.check_planner(user=request.user)
        return Response({"pilots": samplesize.pilot_candidates(user=request.user)})

    @extend_schema(
        operation_id="reader_study_sample_size",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request):
        samplesize.check_planner(user=request.user)
        data = request.data if isinstance(request.data, dict) else {}
        return Response(samplesize.sample_size_plan(user=request.user, data=data))
