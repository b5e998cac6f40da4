from django import forms
from django.contrib import admin

from studies.models import Instance, Patient, Series, Study


def _signed_studies(studies) -> list[Study]:
    from reports.models import ReportStatus

    return list(
        Study.objects.filter(
            id__in=[s.pk for s in studies], report__status=ReportStatus.SIGNED
        ).select_related("patient")
    )


class SignedReportGuard:
    """The admin cannot delete (nor cascade-delete) a study whose report is signed: a signed
    clinical report is part of the medical record. Deleting shows them as protected."""

    def studies_of(self, objs) -> list[Study]:
        return list(objs)

    def get_deleted_objects(self, objs, request):
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        for study in _signed_studies(self.studies_of(objs)):
            protected.append(f"{study} (its report is signed)")
        return to_delete, model_count, perms_needed, protected

    def delete_queryset(self, request, queryset):
        if _signed_studies(self.studies_of(queryset)):
            raise PermissionError("A study with a signed report cannot be deleted.")
        super().delete_queryset(request, queryset)

    def delete_model(self, request, obj):
        if _signed_studies(self.studies_of([obj])):
            raise PermissionError("A study with a signed report cannot be deleted.")
        super().delete_model(request, obj)


@admin.register(Patient)
class PatientAdmin(SignedReportGuard, admin.ModelAdmin):
    list_display = ("name", "patient_id", "sex", "birth_date", "created")
    search_fields = ("name", "patient_id")

    def studies_of(self, objs) -> list[Study]:
        return list(Study.objects.filter(patient__in=list(objs)))


class StudyAdminForm(forms.ModelForm):
    move_reason = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason for moving to another patient",
        help_text="Required when the patient is changed; recorded in the audit trail.",
    )

    class Meta:
        model = Study
        fields = "__all__"  # noqa: DJ007 (the admin chooses the fields shown)

    def clean(self):
        cleaned = super().clean()
        moved = self.instance.pk is not None and "patient" in self.changed_data
        if moved and not (cleaned.get("move_reason") or "").strip():
            self.add_error(
                "move_reason", "Give the reason for moving this study to another patient."
            )
        return cleaned


@admin.register(Study)
class StudyAdmin(SignedReportGuard, admin.ModelAdmin):
    form = StudyAdminForm
    list_display = ("study_instance_uid", "patient", "study_date", "modalities", "kind")
    list_filter = ("kind",)
    search_fields = ("study_instance_uid", "accession_number", "patient__name")
    raw_id_fields = ("patient",)

    def save_model(self, request, obj, form, change):
        if change and "patient" in form.changed_data:
            from audit.services import audit_record

            old_patient = form.initial.get("patient")
            super().save_model(request, obj, form, change)
            audit_record(
                action="study.move_patient",
                request=request,
                object_type="study",
                object_id=obj.pk,
                details={
                    "from_patient": str(old_patient),
                    "to_patient": str(obj.patient_id),
                    "reason": form.cleaned_data["move_reason"].strip(),
                },
            )
            return
        super().save_model(request, obj, form, change)


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ("series_instance_uid", "modality", "series_number", "description")
    search_fields = ("series_instance_uid",)
    raw_id_fields = ("study",)


@admin.register(Instance)
class InstanceAdmin(admin.ModelAdmin):
    list_display = ("sop_instance_uid", "sop_class_uid", "instance_number", "source", "created")
    list_filter = ("source",)
    search_fields = ("sop_instance_uid", "sha256")
    raw_id_fields = ("series", "uploaded_by")
    readonly_fields = ("file", "sha256", "size")
