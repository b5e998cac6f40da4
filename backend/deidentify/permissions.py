"""Who may download a de-identified export: physicians and admins (any study they see, i.e.
the archive) and study admins (their studies' cases: the study-access selector decides which).
Readers never export."""

from rest_framework.permissions import BasePermission

from accounts.models import Role
from accounts.permissions import has_role

EXPORT_ROLES = (Role.PHYSICIAN, Role.ADMIN, Role.STUDY_ADMIN)


class CanExportDeidentified(BasePermission):
    message = "Only physicians, study admins and admins may export studies (readers may not)."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, *EXPORT_ROLES)
