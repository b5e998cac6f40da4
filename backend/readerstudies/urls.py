from django.urls import path

from readerstudies.apis import CaseViewDetailApi, ReadingEventsApi

urlpatterns = [
    path("reading-events/", ReadingEventsApi.as_view(), name="reading-events"),
    path("case-views/<uuid:view_id>/", CaseViewDetailApi.as_view(), name="case-view-detail"),
]
