"""Project middleware: the Content-Security-Policy header, and refusal of NUL characters in URLs."""

from __future__ import annotations

from urllib.parse import unquote_plus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


def csp_header_value(policy: dict[str, list[str]]) -> str:
    return "; ".join(f"{name} {' '.join(values)}" for name, values in policy.items())


class ContentSecurityPolicyMiddleware:
    """Adds CONTENT_SECURITY_POLICY to every response (pages, static files, API answers).

    First in MIDDLEWARE so that responses whitenoise serves (the app's scripts and its web
    workers, whose own policy is the one of their script's response) carry it as well.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.value = csp_header_value(settings.CONTENT_SECURITY_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.value)
        return response


class RejectNulMiddleware:
    """A NUL character in the path or the query string is a 400 that says so.

    No text the product stores or searches may hold one (PostgreSQL text cannot), and a NUL
    reaching a query would be a database error (500) instead of the client's mistake.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "\x00" in unquote_plus(query) or "%00" in query:
            return JsonResponse(
                {
                    "message": "The request's path or query contains a NUL character (%00), "
                    "which no parameter accepts.",
                    "extra": {},
                },
                status=400,
            )
        return self.get_response(request)
