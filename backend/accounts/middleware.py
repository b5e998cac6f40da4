"""Session idle timeout and absolute lifetime (SESSION_IDLE_TIMEOUT, SESSION_ABSOLUTE_TIMEOUT).

A reading-room workstation is shared: a session left open ends after the idle timeout, and
every session ends after the absolute lifetime however active it is. The last-activity time is
written at most once a minute (not on each of a viewer's many image requests).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout

LOGIN_AT = "boneread_login_at"
SEEN_AT = "boneread_seen_at"
WRITE_EVERY = 60  # seconds between writes of the last-activity time


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = time.time()
            login_at = session.get(LOGIN_AT, now)
            seen_at = session.get(SEEN_AT, login_at)
            if (
                now - seen_at > settings.SESSION_IDLE_TIMEOUT
                or now - login_at > settings.SESSION_ABSOLUTE_TIMEOUT
            ):
                logout(request)  # the request goes on as anonymous: APIs answer 403
                request.session_expired = True
            else:
                if LOGIN_AT not in session:
                    session[LOGIN_AT] = login_at
                if now - seen_at >= WRITE_EVERY or SEEN_AT not in session:
                    session[SEEN_AT] = now
        return self.get_response(request)


class LockoutMiddleware:
    """django-axes' lock-out page for the admin login; API paths keep their own JSON 429.

    (axes' own middleware would replace the API's ``{"message", "extra"}`` answer with HTML.)
    """

    API_PREFIXES = ("/api/", "/dicomweb", "/wado")

    def __init__(self, get_response):
        from axes.middleware import AxesMiddleware

        self.get_response = get_response
        self.axes = AxesMiddleware(get_response)

    def __call__(self, request):
        if request.path.startswith(self.API_PREFIXES):
            return self.get_response(request)
        return self.axes(request)
