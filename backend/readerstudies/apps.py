from django.apps import AppConfig


class ReaderStudiesConfig(AppConfig):
    name = "readerstudies"
    verbose_name = "Reading time and reader studies"
