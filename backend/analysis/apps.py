from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    """Reader-study analysis: a read model above ``readerstudies`` (and the archive) that feeds the
    statistics engine ``boneread_ml.stats`` and serves its results as JSON, plots, PDF and CSV.
    Nothing below imports it."""

    name = "analysis"
    verbose_name = "Reader-study analysis"
