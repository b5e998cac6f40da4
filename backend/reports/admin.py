from django.contrib import admin

from reports.models import Report, ReportAddendum, ReportVersion


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class VersionInline(ReadOnlyInline):
    model = ReportVersion
    fields = ("number", "author", "created", "changed_fields", "source")
    readonly_fields = fields


class AddendumInline(ReadOnlyInline):
    model = ReportAddendum
    fields = ("number", "text", "author", "created")
    readonly_fields = fields


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Read-only: reports change only through the API (versioning, signing)."""

    list_display = ("study", "status", "version", "author", "signed_by", "modified")
    list_filter = ("status",)
    search_fields = ("study__accession_number", "study__study_instance_uid", "impression")
    inlines = [VersionInline, AddendumInline]

    def has_add_permission(self, request) -> bool:
        return False  # the add form crashed on the read-only inlines' non-editable fields

    def has_change_permission(self, request, obj=None) -> bool:
        return False
