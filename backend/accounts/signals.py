"""Login bookkeeping: when a session started (for the absolute lifetime) and whose it is."""

from __future__ import annotations

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from accounts.middleware import LOGIN_AT, SEEN_AT
from accounts.tokens import user_session_record


@receiver(user_logged_in)
def session_started(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    now = time.time()
    session[LOGIN_AT] = now
    session[SEEN_AT] = now
    if session.session_key is None:
        session.save()
    user_session_record(user=user, session_key=session.session_key)
