"""Writes of the accounts app."""

from __future__ import annotations

import secrets

from django.contrib.auth import authenticate, login, logout
from django.db import transaction
from django.http import HttpRequest

from accounts.models import Role, User, UserRole
from accounts.permissions import roles_cache_clear
from core.exceptions import ApplicationError


def _roles_check(roles: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise ApplicationError(
            f"Unknown role {unknown[0]!r}; expected one of {', '.join(Role.values)}."
        )
    return sorted(set(roles))


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str | None = None,
    roles: list[str] | None = None,
    display_name: str = "",
    email: str = "",
) -> User:
    """Create a user holding ``role`` and/or every role of ``roles`` (at least one)."""
    wanted = _roles_check([*([role] if role else []), *(roles or [])])
    if not wanted:
        raise ApplicationError(f"A user needs a role; expected one of {', '.join(Role.values)}.")
    user = User(username=username, display_name=display_name, email=email)
    user.set_password(password)
    user.full_clean()
    user.save()
    return user_roles_set(user=user, roles=wanted)


@transaction.atomic
def user_roles_set(*, user: User, roles: list[str] | tuple[str, ...] | set[str]) -> User:
    """Give ``user`` exactly these roles. The admin role also makes them staff and superuser
    (Django admin access); taking it away takes those away."""
    wanted = _roles_check(roles)
    UserRole.objects.filter(user=user).exclude(role__in=wanted).delete()
    held = set(UserRole.objects.filter(user=user).values_list("role", flat=True))
    for role in wanted:
        if role not in held:
            grant = UserRole(user=user, role=role)
            grant.full_clean(exclude=["user"])
            grant.save()
    is_admin = Role.ADMIN in wanted
    if user.is_staff != is_admin or user.is_superuser != is_admin:
        user.is_staff = user.is_superuser = is_admin
        user.save(update_fields=["is_staff", "is_superuser"])
    roles_cache_clear(user)
    return user


def session_login(*, request: HttpRequest, username: str, password: str) -> User:
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise ApplicationError("Wrong user name or password.", status_code=400)
    login(request, user)
    return user


def session_logout(*, request: HttpRequest) -> None:
    logout(request)


DEMO_USERS: list[tuple[str, str, str]] = [
    ("admin", Role.ADMIN, "管理员"),
    ("studyadmin", Role.STUDY_ADMIN, "研究管理员"),
    ("doctor", Role.PHYSICIAN, "王医生"),
    ("reader1", Role.READER, "阅片者一"),
    ("reader2", Role.READER, "阅片者二"),
]


def demo_users_ensure() -> list[tuple[str, str, str | None]]:
    """Create the demo users that do not exist yet, each with a fresh random password.

    Returns (username, role, password) per demo user; the password is None for users that
    already existed (their password is not changed or shown again).
    """
    result = []
    for username, role, display_name in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            result.append((username, role, None))
            continue
        password = secrets.token_urlsafe(9)
        user_create(username=username, password=password, role=role, display_name=display_name)
        result.append((username, role, password))
    return result
