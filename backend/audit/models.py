"""The audit trail: one append-only row per audited action (docs/security.md, "Audit trail").

Rows are only ever inserted (``audit.services.audit_record``). The application cannot change or
remove one: ``save()`` of an existing row, ``delete()`` and queryset ``update()``/``delete()``
raise; on PostgreSQL a trigger also refuses UPDATE, DELETE and TRUNCATE of the table whatever
the client (migration 0002).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    DENIED = "denied", "Denied"
    FAILURE = "failure", "Failure"


class AuditEventImmutable(Exception):
    """Raised on any attempt to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditEventImmutable("Audit events cannot be changed.")

    def delete(self):
        raise AuditEventImmutable("Audit events cannot be deleted.")

    def _raw_delete(self, using):
        raise AuditEventImmutable("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    # No database constraint and no cascade: deleting a user must not touch (update or delete)
    # their audit rows. ``actor_username`` keeps who it was after the user is gone.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True, db_index=True)
    object_id = models.CharField(max_length=128, blank=True, db_index=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(
        max_length=16, choices=AuditOutcome.choices, default=AuditOutcome.SUCCESS, db_index=True
    )
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["actor", "action", "object_id", "-at"])]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action} {self.outcome}"
        )

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditEventImmutable("Audit events cannot be changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEventImmutable("Audit events cannot be deleted.")
