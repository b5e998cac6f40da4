"""BoneRead Django project. Importing it loads the Celery app so that tasks are registered."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
