from django.contrib import admin

from inference.models import InferenceJob, Lesion, ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "task", "version", "is_active", "checksum", "created")
    list_filter = ("task", "is_active")
    readonly_fields = ("checksum", "config", "path")


class LesionInline(admin.TabularInline):
    model = Lesion
    extra = 0
    can_delete = False
    fields = ("number", "class_name", "probability", "area_mm2", "volume_ml", "region")
    readonly_fields = fields


@admin.register(InferenceJob)
class InferenceJobAdmin(admin.ModelAdmin):
    """Jobs are written by the workers; the admin shows them (errors with tracebacks)."""

    list_display = ("id", "study", "model_version", "state", "attempts", "created", "finished_at")
    list_filter = ("state", "trigger")
    readonly_fields = [f.name for f in InferenceJob._meta.fields]
    inlines = [LesionInline]

    def has_add_permission(self, request) -> bool:
        return False
