"""Users and their roles.

A user holds any number of roles (:class:`UserRole` rows, one per role). Code never reads them
directly: ``accounts.permissions.roles_of`` / ``has_role`` are the only way to ask.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


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
