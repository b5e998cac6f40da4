"""URL patterns of reports, mounted by config.urls under /api/studies/<id>/ and /api/reports/.

A trailing slash is optional on every path (the viewer's client adds one).
"""

from django.urls import re_path

from reports.apis import (
    ReportAddendumApi,
    ReportExportApi,
    ReportImportApi,
    ReportListApi,
    ReportSignApi,
    ReportVersionsApi,
    StudyReportApi,
)

study_urlpatterns = [  # /api/studies/<study_id>/...
    re_path(r"^report/?$", StudyReportApi.as_view(), name="study-report"),
    re_path(r"^report/sign/?$", ReportSignApi.as_view(), name="study-report-sign"),
    re_path(r"^report/addenda/?$", ReportAddendumApi.as_view(), name="study-report-addenda"),
    re_path(r"^report/versions/?$", ReportVersionsApi.as_view(), name="study-report-versions"),
]

urlpatterns = [  # /api/reports/...
    re_path(r"^$", ReportListApi.as_view(), name="report-list"),
    re_path(r"^import/?$", ReportImportApi.as_view(), name="report-import"),
    re_path(r"^export/?$", ReportExportApi.as_view(), name="report-export"),
]
