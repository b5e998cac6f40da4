"""The base model every BoneRead table inherits, and the worker round-trip probe."""

import uuid

from django.db import models
from django.utils import timezone


class BaseModel(models.Model):
    """UUID primary key and creation/modification times."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WorkerProbe(BaseModel):
    """A row written by a worker to prove that a task crossed the broker and ran.

    `manage.py check_worker` and the platform tests create one with ``answered=None``, send its id
    through the broker and wait for a worker to fill in ``answered`` and ``worker_hostname``.
    """

    answered = models.DateTimeField(null=True, blank=True)
    worker_hostname = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"probe {self.id} ({'answered' if self.answered else 'waiting'})"
