"""URLs of reader studies and reading time (mounted under /api/)."""

import re

from django.urls import re_path

from readerstudies.apis import design, reading
from readerstudies.apis.events import CaseViewDetailApi, ReadingEventsApi, ServerClockApi

_CONVERTERS = {
    "uuid": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "int": r"[0-9]{1,9}",
}


def path(route: str, view, name: str | None = None):
    """Like ``django.urls.path``, with the trailing slash optional (as on every API path)."""
    pattern = re.sub(
        r"<(\w+):(\w+)>",
        lambda m: f"(?P<{m.group(2)}>{_CONVERTERS[m.group(1)]})",
        route.rstrip("/"),
    )
    return re_path(rf"^{pattern}/?$", view, name=name)


RS = "reader-studies/<uuid:reader_study_id>/"
MY = "reader-studies/my-reading/"

urlpatterns = [
    path("reading-events/", ReadingEventsApi.as_view(), name="reading-events"),
    path("reading-events/clock/", ServerClockApi.as_view(), name="reading-events-clock"),
    path("case-views/<uuid:view_id>/", CaseViewDetailApi.as_view(), name="case-view-detail"),
    # Reader ("My reading")
    path(MY, reading.MyReadingApi.as_view(), name="my-reading"),
    path(
        f"{MY}readings/<uuid:reading_id>/",
        reading.MyReadingDetailApi.as_view(),
        name="my-reading-detail",
    ),
    path(
        f"{MY}readings/<uuid:reading_id>/open/",
        reading.MyReadingOpenApi.as_view(),
        name="my-reading-open",
    ),
    path(
        f"{MY}readings/<uuid:reading_id>/answer/",
        reading.MyReadingAnswerApi.as_view(),
        name="my-reading-answer",
    ),
    path(
        f"{MY}readings/<uuid:reading_id>/submit/",
        reading.MyReadingSubmitApi.as_view(),
        name="my-reading-submit",
    ),
    # Study admin
    path("reader-studies/", design.ReaderStudyListApi.as_view(), name="reader-studies"),
    path(
        "reader-studies/candidate-readers/",
        design.CandidateReadersApi.as_view(),
        name="reader-study-candidate-readers",
    ),
    path(
        "reader-studies/candidate-studies/",
        design.CandidateStudiesApi.as_view(),
        name="reader-study-candidate-studies",
    ),
    path(RS, design.ReaderStudyDetailApi.as_view(), name="reader-study"),
    path(f"{RS}cases/", design.CasesApi.as_view(), name="reader-study-cases"),
    path(f"{RS}cases/<uuid:case_id>/", design.CaseDetailApi.as_view(), name="reader-study-case"),
    path(
        f"{RS}cases/<uuid:case_id>/truth/",
        design.CaseTruthApi.as_view(),
        name="reader-study-case-truth",
    ),
    path(
        f"{RS}cases/<uuid:case_id>/truth/from-seg/",
        design.CaseTruthFromSegApi.as_view(),
        name="reader-study-case-truth-from-seg",
    ),
    path(f"{RS}truth/import/", design.TruthImportApi.as_view(), name="reader-study-truth-import"),
    path(f"{RS}readers/", design.ReadersApi.as_view(), name="reader-study-readers"),
    path(
        f"{RS}readers/<int:user_id>/", design.ReaderDetailApi.as_view(), name="reader-study-reader"
    ),
    path(f"{RS}schedule/", design.ScheduleApi.as_view(), name="reader-study-schedule"),
    path(f"{RS}ai/", design.AiProgressApi.as_view(), name="reader-study-ai"),
    path(
        f"{RS}ai/precompute/", design.AiPrecomputeApi.as_view(), name="reader-study-ai-precompute"
    ),
    path(f"{RS}ai/freeze/", design.AiFreezeApi.as_view(), name="reader-study-ai-freeze"),
    path(f"{RS}start/", design.StartApi.as_view(), name="reader-study-start"),
    path(f"{RS}pause/", design.PauseApi.as_view(), name="reader-study-pause"),
    path(f"{RS}resume/", design.ResumeApi.as_view(), name="reader-study-resume"),
    path(f"{RS}close/", design.CloseApi.as_view(), name="reader-study-close"),
    path(f"{RS}progress/", design.ProgressApi.as_view(), name="reader-study-progress"),
    path(
        f"{RS}sessions/<uuid:session_id>/start/",
        design.SessionStartApi.as_view(),
        name="reader-study-session-start",
    ),
    path(f"{RS}readings/", design.ReadingsApi.as_view(), name="reader-study-readings"),
    path(
        f"{RS}readings/<uuid:reading_id>/reopen/",
        design.ReadingReopenApi.as_view(),
        name="reader-study-reading-reopen",
    ),
    path(
        f"{RS}readings/<uuid:reading_id>/answer/",
        design.ReadingCorrectApi.as_view(),
        name="reader-study-reading-answer",
    ),
    path(f"{RS}flags/", design.FlagsApi.as_view(), name="reader-study-flags"),
]
