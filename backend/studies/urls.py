"""URL patterns of the archive, mounted by config.urls under three prefixes."""

from django.urls import path

from studies.apis import (
    StudyDetailApi,
    StudyListApi,
    StudyStatusApi,
    StudyUploadApi,
    WadoUriApi,
)
from studies.dicomweb import urls as dicomweb_urls

api_urlpatterns: list = [  # /api/studies/...
    path("", StudyListApi.as_view(), name="study-list"),
    path("upload", StudyUploadApi.as_view(), name="study-upload"),
    path("status", StudyStatusApi.as_view(), name="study-status"),
    path("<str:study_id>/", StudyDetailApi.as_view(), name="study-detail"),
]
wado_urlpatterns: list = [  # /wado (WADO-URI)
    path("", WadoUriApi.as_view(), name="wado-uri"),
]
dicomweb_urlpatterns: list = dicomweb_urls.urlpatterns  # /dicomweb/... (QIDO, WADO-RS, STOW)
