"""Serves the built single-page app for every client-side route."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import ensure_csrf_cookie


@ensure_csrf_cookie
def spa_index(request: HttpRequest, path: str = "") -> HttpResponse:
    index = settings.FRONTEND_DIST / "index.html"
    if not index.is_file():
        return HttpResponse(
            "The frontend is not built: run `make demo` (or `make frontend`).",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(index.read_text(encoding="utf-8"), content_type="text/html; charset=utf-8")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF refusals: the API's error shape under /api/, Django's page elsewhere (admin)."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse(
            {
                "message": f"CSRF check failed ({reason}): fetch /api/auth/csrf and send its "
                "token in the X-CSRFToken header.",
                "extra": {},
            },
            status=403,
        )
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason=reason)
