from django.urls import re_path

from deidentify.apis import StudyDeidentifiedExportApi

study_urlpatterns = [  # /api/studies/<study_id>/...
    re_path(
        r"^deidentified-export/?$",
        StudyDeidentifiedExportApi.as_view(),
        name="study-deidentified-export",
    ),
]
