from django.apps import AppConfig


class DeidentifyConfig(AppConfig):
    name = "deidentify"
    verbose_name = "De-identified export"
