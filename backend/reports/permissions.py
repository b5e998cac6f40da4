"""Role checks of the reports app (which study: ``studies.selectors.study_queryset_for_user``).

* read (report, versions, search): physicians, study admins, admins. Readers never read the
  clinical report of a case (it would unblind their reading);
* write, sign, addenda: physicians and admins;
* import and export: physicians, study admins, admins; an import may create *signed* reports only
  for a physician or an admin (``can_sign_reports``): study admins never sign clinical reports.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import Role
from accounts.permissions import has_role

READ_ROLES = (Role.PHYSICIAN, Role.STUDY_ADMIN, Role.ADMIN)
WRITE_ROLES = (Role.PHYSICIAN, Role.ADMIN)
IMPORT_EXPORT_ROLES = (Role.PHYSICIAN, Role.STUDY_ADMIN, Role.ADMIN)


def can_read_reports(user: Any) -> bool:
    return has_role(user, *READ_ROLES)


def can_sign_reports(user: Any) -> bool:
    """Signing a clinical report (in the editor or through an import): physicians and admins."""
    return has_role(user, *WRITE_ROLES)


class CanReadOrWriteReports(BasePermission):
    """GET: the roles that read reports; PUT/POST: physicians and admins."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not getattr(user, "is_authenticated", False):
            return False
        if request.method in SAFE_METHODS:
            self.message = (
                "Readers do not see clinical reports (reader-study blinding); "
                "physicians, study admins and admins do."
            )
            return can_read_reports(user)
        self.message = "Only physicians and admins may edit or sign reports."
        return has_role(user, *WRITE_ROLES)


class CanImportExport(BasePermission):
    message = "Only physicians, study admins and admins may import or export reports."

    def has_permission(self, request, view) -> bool:
        if not getattr(request.user, "is_authenticated", False):
            return False
        return has_role(request.user, *IMPORT_EXPORT_ROLES)
