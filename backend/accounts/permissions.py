"""Role checks of the accounts app: the one place that says which roles a user holds.

Every app's ``permissions.py`` asks here (``has_role``), never reads the role rows itself. A user
may hold several roles (``accounts.models.UserRole``); superusers hold the admin role.
"""

from __future__ import annotations

import contextlib
from typing import Any

from rest_framework.permissions import BasePermission

from accounts.models import ROLE_PRECEDENCE, Role

_CACHE = "_boneread_roles"


def roles_of(user: Any) -> frozenset[str]:
    """The roles ``user`` holds (empty for anonymous users). Superusers hold the admin role.

    Read once per user object (one query) and cached on it; :func:`roles_cache_clear` after a
    change (``accounts.services.user_roles_set`` does).
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, _CACHE, None)
    if cached is not None:
        return cached
    roles: set[str] = set()
    if getattr(user, "pk", None) is not None and hasattr(user, "role_grants"):
        roles.update(user.role_grants.values_list("role", flat=True))
    if getattr(user, "is_superuser", False):
        roles.add(Role.ADMIN)
    result = frozenset(roles)
    with contextlib.suppress(AttributeError):  # an object that takes no attributes: no cache
        setattr(user, _CACHE, result)
    return result


def roles_cache_clear(user: Any) -> None:
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


def has_role(user: Any, *roles: str) -> bool:
    """True when ``user`` holds at least one of ``roles``."""
    return bool(roles_of(user) & set(roles))


def primary_role(user: Any) -> str:
    """The strongest role the user holds ("" for none): what a UI shows when it shows one."""
    held = roles_of(user)
    return next((str(role) for role in ROLE_PRECEDENCE if role in held), "")


class IsAdminRole(BasePermission):
    """Admins only (every method)."""

    message = "Only admins may do this."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, Role.ADMIN)
