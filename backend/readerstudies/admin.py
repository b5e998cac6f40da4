"""Django admin: read-mostly views of reader studies and reading time (changes go through the
API's services, which check the state machine and keep history)."""

from django.contrib import admin

from readerstudies.models import (
    CaseReading,
    CaseView,
    ReaderStudy,
    ReaderStudyCase,
    ReadingEvent,
    StudyStateChange,
)


class ReadingEventInline(admin.TabularInline):
    model = ReadingEvent
    extra = 0
    readonly_fields = (
        "kind", "sequence", "client_time", "server_time", "received_at", "last_input_at",
        "reject_code", "reject_reason",
    )  # fmt: skip
    can_delete = False


@admin.register(CaseView)
class CaseViewAdmin(admin.ModelAdmin):
    list_display = (
        "client_view_id", "user", "study", "arm", "opened_at", "active_seconds", "total_seconds",
        "flagged",
    )  # fmt: skip
    list_filter = ("ended_by", "arm", "flagged")
    readonly_fields = (
        "opened_at", "ended_at", "ended_by", "total_seconds", "active_seconds", "image_seconds",
        "first_image_at", "reading", "reader_session", "arm", "ai_shown", "flagged",
        "flag_reasons", "intervals",
    )  # fmt: skip
    inlines = [ReadingEventInline]


class StateChangeInline(admin.TabularInline):
    model = StudyStateChange
    extra = 0
    readonly_fields = ("from_state", "to_state", "by", "at", "reason")
    can_delete = False


@admin.register(ReaderStudy)
class ReaderStudyAdmin(admin.ModelAdmin):
    list_display = ("title", "design", "state", "started_at", "closed_at")
    list_filter = ("design", "state")
    readonly_fields = ("state", "started_at", "closed_at", "seed")
    inlines = [StateChangeInline]


@admin.register(ReaderStudyCase)
class ReaderStudyCaseAdmin(admin.ModelAdmin):
    list_display = ("reader_study", "study", "truth_metastasis", "truth_source")
    readonly_fields = ("ai_job",)


@admin.register(CaseReading)
class CaseReadingAdmin(admin.ModelAdmin):
    list_display = ("session", "position", "case", "state", "submitted_at")
    list_filter = ("state",)
    readonly_fields = ("first_opened_at", "submitted_at", "state")
