from django.contrib import admin

from readerstudies.models import CaseView, ReadingEvent


class ReadingEventInline(admin.TabularInline):
    model = ReadingEvent
    extra = 0
    readonly_fields = ("kind", "sequence", "client_time", "server_time", "received_at")
    can_delete = False


@admin.register(CaseView)
class CaseViewAdmin(admin.ModelAdmin):
    list_display = (
        "client_view_id",
        "user",
        "study",
        "opened_at",
        "active_seconds",
        "total_seconds",
    )
    list_filter = ("ended_by",)
    readonly_fields = ("opened_at", "ended_at", "ended_by", "total_seconds", "active_seconds")
    inlines = [ReadingEventInline]
