"""OpenAPI shapes of the reports API's answers (the dicts built by reports.selectors)."""

from __future__ import annotations

from rest_framework import serializers


class PersonOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()


class AddendumOutputSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    text = serializers.CharField()
    author = PersonOutputSerializer(allow_null=True)
    created = serializers.DateTimeField()


class ReportOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    study_id = serializers.UUIDField()
    status = serializers.CharField()
    version = serializers.IntegerField()
    history = serializers.CharField()
    findings = serializers.CharField()
    impression = serializers.CharField()
    author = PersonOutputSerializer(allow_null=True)
    created = serializers.DateTimeField()
    modified = serializers.DateTimeField()
    signed_by = PersonOutputSerializer(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    signed_version = serializers.IntegerField(allow_null=True)
    addenda = AddendumOutputSerializer(many=True)


class ReportVersionOutputSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    history = serializers.CharField()
    findings = serializers.CharField()
    impression = serializers.CharField()
    author = PersonOutputSerializer(allow_null=True)
    created = serializers.DateTimeField()
    changed_fields = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField()


class ReportListItemOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    study_id = serializers.UUIDField()
    study_instance_uid = serializers.CharField()
    accession_number = serializers.CharField()
    study_date = serializers.DateField(allow_null=True)
    patient_name = serializers.CharField()
    patient_id = serializers.CharField()
    status = serializers.CharField()
    version = serializers.IntegerField()
    impression = serializers.CharField()
    author = PersonOutputSerializer(allow_null=True)
    signed_by = PersonOutputSerializer(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    modified = serializers.DateTimeField()


class ReportPageOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ReportListItemOutputSerializer(many=True)


class ImportCountsOutputSerializer(serializers.Serializer):
    imported = serializers.IntegerField()
    skipped = serializers.IntegerField()
    error = serializers.IntegerField()


class ImportRowOutputSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["imported", "skipped", "error"])
    reason = serializers.CharField()
    study_id = serializers.UUIDField(allow_null=True)
    report_version = serializers.IntegerField(allow_null=True)
    study_instance_uid = serializers.CharField(required=False)
    accession_number = serializers.CharField(required=False)


class ImportOutputSerializer(serializers.Serializer):
    counts = ImportCountsOutputSerializer()
    rows = ImportRowOutputSerializer(many=True)


class ImportRowInputSerializer(serializers.Serializer):
    study_instance_uid = serializers.CharField(required=False, max_length=64)
    accession_number = serializers.CharField(required=False, max_length=64)
    history = serializers.CharField(required=False, allow_blank=True)
    findings = serializers.CharField(required=False, allow_blank=True)
    impression = serializers.CharField(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=["draft", "signed"], required=False)


class ImportFileInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A CSV (UTF-8 or GB18030) or JSON file of rows.")


class ReportExportJsonSerializer(serializers.Serializer):
    reports = serializers.ListField(
        child=serializers.DictField(), help_text="One object per report (re-importable)."
    )
