"""API tokens and sessions: create, check, revoke; log out everywhere.

Keys are 43 random URL-safe characters (256 bits) prefixed ``br_``; only their SHA-256 is stored.
A fast hash is right here (unlike for passwords): a random 256-bit key cannot be guessed from its
hash, and every API request checks one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, User, UserSession
from core.exceptions import ApplicationError, NotFoundError

KEY_PREFIX = "br_"
PREFIX_LENGTH = 8  # characters of the key shown in lists (after "br_")


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    key: str  # shown once; never stored


@transaction.atomic
def api_token_create(*, user: User, name: str, expires_in_days: int | None = None) -> CreatedToken:
    days = settings.API_TOKEN_DEFAULT_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise ApplicationError(
            f"expires_in_days must be between 1 and {settings.API_TOKEN_MAX_DAYS} "
            "(API_TOKEN_MAX_DAYS)."
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        prefix=key[len(KEY_PREFIX) : len(KEY_PREFIX) + PREFIX_LENGTH],
        key_hash=token_hash(key),
        expires=timezone.now() + timedelta(days=days),
    )
    token.full_clean()
    token.save()
    return CreatedToken(token=token, key=key)


@transaction.atomic
def api_token_revoke(*, user: User, token_id: str) -> ApiToken:
    """Revoke one of ``user``'s own tokens (another user's token is "not found")."""
    token = ApiToken.objects.select_for_update().filter(user=user, id=token_id).first()
    if token is None:
        raise NotFoundError("No such token of yours.")
    if token.revoked is None:
        token.revoked = timezone.now()
        token.save(update_fields=["revoked"])
    return token


def api_token_user(*, key: str) -> tuple[User, ApiToken] | None:
    """The active user of a valid, unexpired, unrevoked key, or None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(key), revoked__isnull=True, expires__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used is None or now - token.last_used > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)  # at most one write a minute
    return token.user, token


def user_session_record(*, user: User, session_key: str) -> None:
    UserSession.objects.update_or_create(session_key=session_key, defaults={"user": user})


@transaction.atomic
def user_logout_everywhere(*, user: User) -> dict[str, int]:
    """End every browser session of ``user`` and revoke all their API tokens.

    Tokens are revoked too: "log out everywhere" is what a user does when a credential may be
    out of their hands, and a token is one.
    """
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    sessions = Session.objects.filter(session_key__in=keys).delete()[0]
    UserSession.objects.filter(user=user).delete()
    tokens = ApiToken.objects.filter(user=user, revoked__isnull=True).update(revoked=timezone.now())
    from audit.services import audit_record

    audit_record(
        action="auth.logout_everywhere",
        actor=user,
        object_type="user",
        object_id=user.pk,
        details={"sessions_ended": sessions, "tokens_revoked": tokens},
    )
    return {"sessions_ended": sessions, "tokens_revoked": tokens}
