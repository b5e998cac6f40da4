"""django-axes' lock-out check as the first authentication backend.

Every HTTP login path of BoneRead (the API login, the admin's login page, HTTP Basic) passes the
request, so it is counted and locked out. Code that authenticates without a request (Django's
test client ``login()``, management commands) is not reachable from the network; axes would
raise there, so the check is skipped instead.
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
