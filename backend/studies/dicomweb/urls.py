"""DICOMweb routes, mounted at /dicomweb/ by config.urls through studies.urls."""

from django.urls import path

from studies.dicomweb import views

STUDY = "studies/<str:study_uid>"
SERIES = f"{STUDY}/series/<str:series_uid>"
INSTANCE = f"{SERIES}/instances/<str:sop_uid>"

urlpatterns = [
    path("studies", views.StudiesRootApi.as_view(), name="dicomweb-studies"),
    path("series", views.QidoSeriesApi.as_view(), name="dicomweb-all-series"),
    path("instances", views.QidoInstancesApi.as_view(), name="dicomweb-all-instances"),
    path(STUDY, views.StudyApi.as_view(), name="dicomweb-study"),
    path(f"{STUDY}/metadata", views.WadoMetadataApi.as_view(), name="dicomweb-study-metadata"),
    path(f"{STUDY}/series", views.QidoSeriesApi.as_view(), name="dicomweb-study-series"),
    path(f"{STUDY}/instances", views.QidoInstancesApi.as_view(), name="dicomweb-study-instances"),
    path(SERIES, views.WadoRetrieveApi.as_view(), name="dicomweb-series"),
    path(f"{SERIES}/metadata", views.WadoMetadataApi.as_view(), name="dicomweb-series-metadata"),
    path(f"{SERIES}/instances", views.QidoInstancesApi.as_view(), name="dicomweb-series-instances"),
    path(INSTANCE, views.WadoRetrieveApi.as_view(), name="dicomweb-instance"),
    path(f"{INSTANCE}/metadata", views.WadoMetadataApi.as_view(), name="dicomweb-metadata"),
    path(f"{INSTANCE}/frames/<str:frames>", views.WadoFramesApi.as_view(), name="dicomweb-frames"),
    path(f"{INSTANCE}/bulkdata/<str:tag>", views.WadoBulkdataApi.as_view(), name="dicomweb-bulk"),
    path(f"{INSTANCE}/rendered", views.WadoRenderedApi.as_view(), name="dicomweb-rendered"),
    path(
        f"{INSTANCE}/frames/<str:frame>/rendered",
        views.WadoRenderedApi.as_view(),
        name="dicomweb-frame-rendered",
    ),
]
