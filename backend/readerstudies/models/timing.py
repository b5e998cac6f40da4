"""Reading time: every opening of a case in the viewer (a case view) and its timer events."""

from django.conf import settings
from django.db import models

from core.models import BaseModel


class EventKind(models.TextChoices):
    OPENED = "opened"
    FIRST_IMAGE = "first_image"
    HEARTBEAT = "heartbeat"
    VISIBLE = "visible"
    HIDDEN = "hidden"
    IDLE = "idle"
    ACTIVE = "active"
    SUBMITTED = "submitted"
    CLOSED = "closed"


class CaseView(BaseModel):
    """One opening of one study by one user, identified by the id the browser made for it.

    The times are derived from the view's events by ``readerstudies.timing`` each time events
    arrive: ``total_seconds`` from opened to submitted/closed (or to the last event while the view
    is still open) and ``active_seconds``, the part of it that was visible and not idle.
    """

    client_view_id = models.UUIDField(unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="case_views")
    opened_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=10, blank=True)
    total_seconds = models.FloatField(default=0.0)
    active_seconds = models.FloatField(default=0.0)
    event_count = models.PositiveIntegerField(default=0)
    # Reader-study reading (null: clinical reading) and what the reader was shown.
    reading = models.ForeignKey(
        "readerstudies.CaseReading",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="case_views",
    )
    reader_session = models.ForeignKey(
        "readerstudies.ReaderSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    arm = models.CharField(max_length=16, blank=True)
    ai_shown = models.BooleanField(default=False)
    first_image_at = models.DateTimeField(null=True, blank=True)
    image_seconds = models.FloatField(default=0.0)
    # Intervals (server time, ISO strings) the analysis unions across the views of one reading.
    intervals = models.JSONField(default=dict, blank=True)
    flagged = models.BooleanField(default=False)
    flag_reasons = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "study"])]

    def __str__(self) -> str:
        return f"case view {self.client_view_id} ({self.active_seconds:.0f} s active)"


class ReadingEvent(BaseModel):
    """A timer event. ``server_time`` is the server's clock: the client's time of the event shifted
    by the client-server clock offset measured when its batch arrived, so that events kept offline
    and replayed later keep their real place in time."""

    case_view = models.ForeignKey(CaseView, on_delete=models.CASCADE, related_name="events")
    client_event_id = models.UUIDField(unique=True)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    sequence = models.PositiveIntegerField()
    client_time = models.DateTimeField()
    server_time = models.DateTimeField()
    received_at = models.DateTimeField()
    last_input_client_time = models.DateTimeField(null=True, blank=True)
    last_input_at = models.DateTimeField(null=True, blank=True)
    ai_shown = models.BooleanField(null=True, blank=True)
    # A stored event that the server refused to count (implausible time): code + reason.
    reject_code = models.CharField(max_length=32, blank=True)
    reject_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["sequence", "server_time"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.sequence} of {self.case_view_id}"
