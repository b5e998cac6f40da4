from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "inference"
    verbose_name = "AI models and jobs"

    def ready(self) -> None:
        # Worker start-up hooks (torch threads, stale-job recovery); harmless in web processes.
        from inference import worker  # noqa: F401
