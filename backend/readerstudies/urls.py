"""URLs of reader studies and reading time (mounted under /api/)."""

from django.urls import path

from readerstudies.apis import design, reading
from readerstudies.apis.events import CaseViewDetailApi, ReadingEventsApi, ServerClockApi

RS = "reader-studies/<uuid:reader_study_id>/"
MY = "reader-studies/my-reading/"

urlpatterns = [
    path("reading-events/", ReadingEventsApi.as_view(), name="reading-events"),
    path("reading-events/clock/", ServerClockApi.as_view(), name="reading-events-clock"),
    path("case-views/<uuid:view_id>/", CaseViewDetailApi.as_view(), name="case-view-detail"),
    # Reader ("My reading")
    path(MY, reading.MyReadingApi.as_view(), name="my-reading"),
    path(f"{MY}readings/<uuid:reading_id>/", reading.MyReadingDetailApi.as_view()),
    path(f"{MY}readings/<uuid:reading_id>/open/", reading.MyReadingOpenApi.as_view()),
    path(f"{MY}readings/<uuid:reading_id>/answer/", reading.MyReadingAnswerApi.as_view()),
    path(f"{MY}readings/<uuid:reading_id>/submit/", reading.MyReadingSubmitApi.as_view()),
    # Study admin
    path("reader-studies/", design.ReaderStudyListApi.as_view(), name="reader-studies"),
    path("reader-studies/candidate-readers/", design.CandidateReadersApi.as_view()),
    path("reader-studies/candidate-studies/", design.CandidateStudiesApi.as_view()),
    path(RS, design.ReaderStudyDetailApi.as_view(), name="reader-study"),
    path(f"{RS}cases/", design.CasesApi.as_view()),
    path(f"{RS}cases/<uuid:case_id>/", design.CaseDetailApi.as_view()),
    path(f"{RS}cases/<uuid:case_id>/truth/", design.CaseTruthApi.as_view()),
    path(f"{RS}cases/<uuid:case_id>/truth/from-seg/", design.CaseTruthFromSegApi.as_view()),
    path(f"{RS}truth/import/", design.TruthImportApi.as_view()),
    path(f"{RS}readers/", design.ReadersApi.as_view()),
    path(f"{RS}readers/<int:user_id>/", design.ReaderDetailApi.as_view()),
    path(f"{RS}schedule/", design.ScheduleApi.as_view()),
    path(f"{RS}ai/", design.AiProgressApi.as_view()),
    path(f"{RS}ai/precompute/", design.AiPrecomputeApi.as_view()),
    path(f"{RS}ai/freeze/", design.AiFreezeApi.as_view()),
    path(f"{RS}start/", design.StartApi.as_view()),
    path(f"{RS}pause/", design.PauseApi.as_view()),
    path(f"{RS}resume/", design.ResumeApi.as_view()),
    path(f"{RS}close/", design.CloseApi.as_view()),
    path(f"{RS}progress/", design.ProgressApi.as_view()),
    path(f"{RS}sessions/<uuid:session_id>/start/", design.SessionStartApi.as_view()),
    path(f"{RS}readings/", design.ReadingsApi.as_view()),
    path(f"{RS}readings/<uuid:reading_id>/reopen/", design.ReadingReopenApi.as_view()),
    path(f"{RS}readings/<uuid:reading_id>/answer/", design.ReadingCorrectApi.as_view()),
    path(f"{RS}flags/", design.FlagsApi.as_view()),
]
