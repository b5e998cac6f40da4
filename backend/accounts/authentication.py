"""DRF authentication classes: hashed API tokens, and HTTP Basic for DICOMweb clients.

Basic auth is kept because DICOM viewers and scripts (OHIF, Weasis, dicomweb-client) speak it.
It goes through the same lock-out as the login form (django-axes counts its failures per account
and per client), and a verified credential is remembered for BASIC_AUTH_CACHE_SECONDS as an HMAC
in the cache, so a viewer's hundreds of requests do not each run the password hash (a ~0.5 s
PBKDF2 per request would be both slow and a denial-of-service lever). The cache entry is bound
to the user's current password hash: a password change, deactivation or "log out everywhere"
(which rotates the entries' salt) ends it.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication, TokenAuthentication

from accounts.models import User


class ApiTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>`` (or ``Bearer <key>``) with a key from /api/auth/tokens."""

    def authenticate(self, request):
        parts = request.META.get("HTTP_AUTHORIZATION", "").split()
        if not parts or parts[0].lower() not in ("token", "bearer"):
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid token header: use 'Authorization: Token <key>'."
            )
        return self.authenticate_credentials(parts[1])

    def authenticate_credentials(self, key):
        if "\x00" in key or len(key) > 200:
            raise exceptions.AuthenticationFailed("Invalid token.")
        from accounts.tokens import api_token_user  # imports the API layer: not at load time

        found = api_token_user(key=key)
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return found


def _basic_cache_key(username: str, password: str) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"{username}\x00{password}".encode("utf-8", "surrogatepass"),
        hashlib.sha256,
    ).hexdigest()
    return f"basic-auth:{digest}"


def _password_fingerprint(user: User) -> str:
    return hashlib.sha256(user.password.encode()).hexdigest()


class ThrottledBasicAuthentication(BasicAuthentication):
    """HTTP Basic with django-axes lock-out and a short-lived cache of verified credentials."""

    def authenticate_credentials(self, userid, password, request=None):
        if "\x00" in userid or "\x00" in password:
            raise exceptions.AuthenticationFailed("Invalid username/password.")
        key = _basic_cache_key(userid, password)
        remembered = cache.get(key)
        if remembered:
            user = User.objects.filter(pk=remembered[0], is_active=True).first()
            if user is not None and _password_fingerprint(user) == remembered[1]:
                return user, None
            cache.delete(key)
        django_request = getattr(request, "_request", request)
        user = authenticate(django_request, **{User.USERNAME_FIELD: userid, "password": password})
        if getattr(django_request, "axes_locked_out", False):
            raise exceptions.Throttled(
                detail="Too many failed logins for this account or from this address; "
                f"try again in {settings.AXES_COOLOFF_TIME * 60:g} minutes."
            )
        if user is None or not user.is_active:
            # audited by the user_login_failed signal that authenticate() sends
            raise exceptions.AuthenticationFailed("Invalid username/password.")
        cache.set(key, (user.pk, _password_fingerprint(user)), settings.BASIC_AUTH_CACHE_SECONDS)
        return user, None
