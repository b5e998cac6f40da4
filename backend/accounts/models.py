"""Users and their roles."""

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    PHYSICIAN = "physician", "Physician"
    READER = "reader", "Reader-study participant"
    STUDY_ADMIN = "study_admin", "Study admin"
    ADMIN = "admin", "Admin"


class User(AbstractUser):
    """A BoneRead user. ``role`` decides what the APIs let them see and do."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.PHYSICIAN)
    display_name = models.CharField(
        max_length=150, blank=True, help_text="Name shown in the UI, e.g. 张医生"
    )
    preferred_language = models.CharField(
        max_length=10, choices=[("zh-hans", "简体中文"), ("en", "English")], blank=True
    )

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser


class ApiToken(models.Model):
    """A personal API token (``Authorization: Token <key>``) of one user.

    Only the SHA-256 of the key is stored (the key is shown once, at creation): nobody, admins
    included, can read a token back. ``prefix`` (the key's first characters) lets a user tell
    their tokens apart. A token works until ``expires`` or until it is revoked.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    expires = models.DateTimeField()
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name}, {self.user})"


class UserSession(models.Model):
    """A browser session of a user, so that "log out everywhere" can end all of them."""

    session_key = models.CharField(max_length=40, primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"session of {self.user} since {self.created:%Y-%m-%d %H:%M}"
