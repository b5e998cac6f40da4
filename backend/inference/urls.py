"""URL patterns of AI jobs and models (trailing slash optional everywhere).

Mounted by config.urls: ``urlpatterns`` under /api/inference/, ``study_urlpatterns`` under
/api/studies/<study_id>/, ``model_urlpatterns`` under /api/models/.
"""

from django.urls import re_path

from inference.apis import (
    JobBatchApi,
    JobCancelApi,
    JobCreateApi,
    JobDetailApi,
    JobLabelmapApi,
    JobResultApi,
    ModelVersionActivateApi,
    ModelVersionListApi,
    StudyAiApi,
    StudyJobsApi,
    StudySegmentationLabelmapApi,
    StudySegmentationsApi,
)

UUID = r"(?P<{}>[0-9a-fA-F-]{{36}})"

urlpatterns = [  # /api/inference/...
    re_path(r"^jobs/?$", JobCreateApi.as_view(), name="inference-job-create"),
    re_path(r"^jobs/batch/?$", JobBatchApi.as_view(), name="inference-job-batch"),
    re_path(rf"^jobs/{UUID.format('job_id')}/?$", JobDetailApi.as_view(), name="inference-job"),
    re_path(
        rf"^jobs/{UUID.format('job_id')}/cancel/?$",
        JobCancelApi.as_view(),
        name="inference-job-cancel",
    ),
    re_path(
        rf"^jobs/{UUID.format('job_id')}/labelmap/?$",
        JobLabelmapApi.as_view(),
        name="inference-job-labelmap",
    ),
    re_path(
        rf"^jobs/{UUID.format('job_id')}/result/?$",
        JobResultApi.as_view(),
        name="inference-job-result",
    ),
]

study_urlpatterns = [  # /api/studies/<study_id>/...
    re_path(r"^ai/?$", StudyAiApi.as_view(), name="study-ai"),
    re_path(r"^inference-jobs/?$", StudyJobsApi.as_view(), name="study-inference-jobs"),
    re_path(r"^segmentations/?$", StudySegmentationsApi.as_view(), name="study-segmentations"),
    re_path(
        r"^segmentations/(?P<series_uid>[0-9.]{1,64})/labelmap/?$",
        StudySegmentationLabelmapApi.as_view(),
        name="study-segmentation-labelmap",
    ),
]

model_urlpatterns = [  # /api/models/...
    re_path(r"^$", ModelVersionListApi.as_view(), name="model-list"),
    re_path(
        rf"^{UUID.format('model_version_id')}/activate/?$",
        ModelVersionActivateApi.as_view(),
        name="model-activate",
    ),
]
