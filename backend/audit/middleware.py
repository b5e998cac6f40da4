"""Every change made through the Django admin (any non-GET request under /admin/) is audited,
bulk actions included, with the user, the path, the action and the selected objects."""

from __future__ import annotations

from django.conf import settings

from audit.models import AuditOutcome
from audit.services import audit_record

SAFE = ("GET", "HEAD", "OPTIONS", "TRACE")


class AdminAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = "/" + getattr(settings, "AUDIT_ADMIN_PREFIX", "admin/").lstrip("/")

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in SAFE and request.path.startswith(self.prefix):
            if request.path.rstrip("/").endswith(("/login", "/logout")):
                return response  # audited by the auth signals
            code = response.status_code
            outcome = (
                AuditOutcome.DENIED
                if code in (401, 403)
                else AuditOutcome.FAILURE
                if code >= 400
                else AuditOutcome.SUCCESS
            )
            post = getattr(request, "POST", {})
            audit_record(
                action="admin.change",
                request=request,
                object_type="admin",
                object_id=request.path[len(self.prefix) :][:128],
                outcome=outcome,
                details={
                    "method": request.method,
                    "path": request.path,
                    "status": code,
                    "admin_action": post.get("action", "") if post else "",
                    "selected": post.getlist("_selected_action") if post else [],
                    # An admin form that saved answers with a redirect; one that did not, with
                    # the form again (200): say which.
                    "saved": code in (301, 302, 303),
                },
            )
        return response
