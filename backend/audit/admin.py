"""The audit trail in the Django admin: read-only, filterable, with a CSV link."""

from django.contrib import admin

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "at",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "client_address",
        "outcome",
    )
    list_filter = ("outcome", "action", "object_type", ("at", admin.DateFieldListFilter))
    search_fields = ("actor_username", "object_id", "action", "client_address")
    date_hierarchy = "at"
    ordering = ("-at",)
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    actions = None  # no bulk delete

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
