"""Role checks of the inference app (which study: ``studies.selectors.study_queryset_for_user``;
which AI result: ``inference.selectors.ai_access_check``)."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import Role
from accounts.permissions import has_role

RUN_ROLES = (Role.PHYSICIAN, Role.STUDY_ADMIN, Role.ADMIN)


class CanRunJobs(BasePermission):
    """Physicians, study admins and admins start and cancel jobs; readers only read results."""

    message = "Only physicians, study admins and admins may start or cancel AI jobs."

    def has_permission(self, request, view) -> bool:
        if not getattr(request.user, "is_authenticated", False):
            return False
        return request.method in SAFE_METHODS or has_role(request.user, *RUN_ROLES)


class CanManageModels(BasePermission):
    """Everyone signed in sees the registered models; only admins activate one."""

    message = "Only admins may change models."

    def has_permission(self, request, view) -> bool:
        if not getattr(request.user, "is_authenticated", False):
            return False
        return request.method in SAFE_METHODS or has_role(request.user, Role.ADMIN)
