"""Users and their roles."""

from django.contrib.auth.models import AbstractUser
from django.db import models


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
