from django.urls import path

from audit.apis import AuditExportApi

urlpatterns = [  # /api/audit/...
    path("events.csv", AuditExportApi.as_view(), name="audit-export"),
]
