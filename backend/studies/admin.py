from django.contrib import admin

from studies.models import Instance, Patient, Series, Study


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ("name", "patient_id", "sex", "birth_date", "created")
    search_fields = ("name", "patient_id")


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ("study_instance_uid", "patient", "study_date", "modalities", "kind")
    list_filter = ("kind",)
    search_fields = ("study_instance_uid", "accession_number", "patient__name")
    raw_id_fields = ("patient",)


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
