"""Users and their roles.

A user holds any number of roles (:class:`UserRole` rows, one per role). Code never reads them
directly: ``accounts.permissions.roles_of`` / ``has_role`` are the only way to ask.
"""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    PHYSICIAN = "physician", "Physician"
    READER = "reader", "Reader-study participant"
    STUDY_ADMIN = "study_admin", "Study admin"
    ADMIN = "admin", "Admin"


# When one role must be shown (the top bar, ``/api/auth/me``'s ``role``): the strongest first.
ROLE_PRECEDENCE = (Role.ADMIN, Role.STUDY_ADMIN, Role.PHYSICIAN, Role.READER)


class User(AbstractUser):
    """A BoneRead user. Their roles (``role_grants``) decide what the APIs let them see and do."""

    display_name = models.CharField(
        max_length=150, blank=True, help_text="Name shown in the UI, e.g. 张医生"
    )
    preferred_language = models.CharField(
        max_length=10, choices=[("zh-hans", "简体中文"), ("en", "English")], blank=True
    )

    def refresh_from_db(self, *args, **kwargs):
        # Roles are cached on the object by accounts.permissions.roles_of: reload them too.
        self.__dict__.pop("_boneread_roles", None)
        super().refresh_from_db(*args, **kwargs)


class UserRole(models.Model):
    """One role held by one user (a user may hold several; the union of their rights applies)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="user_role_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} : {self.role}"


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
