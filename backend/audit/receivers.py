"""Logins, failed logins and logouts into the audit trail (Django's auth signals)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.models import AuditOutcome
from audit.services import audit_record


@receiver(user_logged_in, dispatch_uid="audit-login")
def _logged_in(sender, request, user, **kwargs) -> None:
    audit_record(
        action="auth.login", actor=user, request=request, object_type="user", object_id=user.pk
    )


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    # ``credentials`` comes cleansed by Django (passwords masked); keep only the user name.
    username = str((credentials or {}).get("username", ""))[:150]
    audit_record(
        action="auth.login",
        request=request,
        object_type="user",
        object_id=username,
        outcome=AuditOutcome.FAILURE,
        details={"username": username},
    )


@receiver(user_logged_out, dispatch_uid="audit-logout")
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(
            action="auth.logout", actor=user, request=request, object_type="user", object_id=user.pk
        )
