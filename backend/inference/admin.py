from django.contrib import admin

from inference.models import InferenceJob, Lesion, ModelVersion


@admin.action(description="Make the selected model the active one of its task")
def activate(modeladmin, request, queryset):
    from inference.services import model_version_activate

    for model_version in queryset[:1]:
        model_version_activate(model_version=model_version)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    """Registered with `manage.py register_models`; activated with the action (one per task)."""

    list_display = ("name", "task", "version", "is_active", "checksum", "created")
    list_filter = ("task", "is_active")
    readonly_fields = (
        "task",
        "checksum",
        "postprocess_sha256",
        "config",
        "path",
        "is_active",
        "registered_by",
    )
    actions = [activate]

    def has_add_permission(self, request) -> bool:
        return False


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
