from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.apis import api_not_found
from core.views import spa_index
from deidentify.urls import study_urlpatterns as deidentify_study_api
from inference.urls import model_urlpatterns as inference_model_api
from inference.urls import study_urlpatterns as inference_study_api
from reports.urls import study_urlpatterns as reports_study_api
from studies.urls import api_urlpatterns as studies_api
from studies.urls import dicomweb_urlpatterns, wado_urlpatterns

api_patterns = [
    path("", include("core.urls")),
    path("auth/", include("accounts.urls")),
    path("", include("readerstudies.urls")),
    path("studies/<str:study_id>/", include(reports_study_api)),
    path("studies/<str:study_id>/", include(inference_study_api)),
    path("studies/<str:study_id>/", include(deidentify_study_api)),
    path("studies/", include(studies_api)),
    path("reports/", include("reports.urls")),
    path("inference/", include("inference.urls")),
    path("models/", include(inference_model_api)),
    path("audit/", include("audit.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    re_path(r"^.*$", api_not_found),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("wado", include(wado_urlpatterns)),
    path("dicomweb/", include(dicomweb_urlpatterns)),
    # Every other path is a client-side route of the single-page app.
    re_path(r"^(?!api/|admin/|static/|media/|wado|dicomweb/)(?P<path>.*)$", spa_index, name="spa"),
]
