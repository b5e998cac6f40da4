"""Role checks of the accounts app: the one place that says which roles a user holds.

Every app's ``permissions.py`` asks here (``has_role``), never reads ``user.role`` itself, so that
the storage of roles (today one field; a user may hold several) can change in one place.
"""

from __future__ import annotations

from typing import Any

from accounts.models import Role


def roles_of(user: Any) -> frozenset[str]:
    """The roles ``user`` holds (empty for anonymous users). Superusers hold the admin role."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    roles = {user.role} if getattr(user, "role", "") else set()
    if getattr(user, "is_superuser", False):
        roles.add(Role.ADMIN)
    return frozenset(roles)


def has_role(user: Any, *roles: str) -> bool:
    """True when ``user`` holds at least one of ``roles``."""
    return bool(roles_of(user) & set(roles))
