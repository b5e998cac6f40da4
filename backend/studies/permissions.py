"""Role checks of the archive (object-level access is ``studies.selectors.study_queryset_for_user``).

Who may ingest (REST upload, STOW-RS): physicians and admins. Readers and study admins never
store DICOM: a reader must not add images to a patient's study, and a study admin builds studies
from what the archive holds. The DICOM C-STORE receiver has no user (see docs/security.md).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import Role
from accounts.permissions import has_role

INGEST_ROLES = (Role.PHYSICIAN, Role.ADMIN)


def can_ingest(user: Any) -> bool:
    return has_role(user, *INGEST_ROLES)


class CanIngestOrReadOnly(BasePermission):
    """Reads: any signed-in user (what they see is the selector's business); writes (upload,
    STOW-RS): physicians and admins only."""

    message = (
        "Only physicians and admins may store DICOM objects; your role (reader or study admin) "
        "may not add images to the archive or to an existing patient's study."
    )

    def has_permission(self, request, view) -> bool:
        if not getattr(request.user, "is_authenticated", False):
            return False
        return request.method in SAFE_METHODS or can_ingest(request.user)
