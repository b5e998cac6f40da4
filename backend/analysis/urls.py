"""URLs of the reader-study analysis (mounted under /api/)."""

from django.urls import path

from analysis.apis import ExportApi, PlotApi, ReportApi, ResultsApi, SampleSizeApi

RS = "reader-studies/<uuid:reader_study_id>/"

urlpatterns = [
    path("reader-studies/sample-size/", SampleSizeApi.as_view(), name="reader-study-sample-size"),
    path(f"{RS}results/", ResultsApi.as_view(), name="reader-study-results"),
    path(f"{RS}results/plots/<str:name>.png", PlotApi.as_view(), name="reader-study-plot"),
    path(f"{RS}results/report.pdf", ReportApi.as_view(), name="reader-study-report"),
    path(f"{RS}exports/<str:kind>.csv", ExportApi.as_view(), name="reader-study-export"),
]
