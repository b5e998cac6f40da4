"""One error shape for the whole API: ``{"message", "extra", "code", "params"}``.

Services raise :class:`ApplicationError` (or Django's ``ValidationError``); DRF raises its own
exceptions; :func:`api_exception_handler` turns all of them into that shape with a 4xx status.
``message`` is an English sentence for logs and scripts; ``code`` is a stable identifier
(``study_not_found``, ``report_stale_version``, ...) and ``params`` its values, from which the
browser writes the message in the user's language.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A request the product understood and refuses, with a reason for the user.

    Args:
        message: one sentence a user can act on.
        extra: structured details (field errors, the conflicting object, ...).
        status_code: the HTTP status the API answers with (400 unless a better one fits).
        code: stable identifier of the error for clients that translate (default by class).
        params: the values the translated message needs (JSON-serialisable).
    """

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        extra: dict[str, Any] | None = None,
        status_code: int | None = None,
        code: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
        self.code = code or self.default_code
        self.params = params or {}
        if status_code is not None:
            self.status_code = status_code


class ConflictError(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class NotFoundError(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"


def _flatten(detail: Any) -> str:
    if isinstance(detail, list):
        return "; ".join(_flatten(item) for item in detail)
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_flatten(value)}" for key, value in detail.items())
    return str(detail)


def request_limit_error(exc: Exception) -> ApplicationError | None:
    """Django's request-size refusals as API errors naming the setting that sets the limit."""
    from django.conf import settings
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent

    if isinstance(exc, RequestDataTooBig):
        return ApplicationError(
            f"The request body is larger than the limit of {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} "
            "bytes (DATA_UPLOAD_MAX_MEMORY_SIZE); send files as multipart uploads.",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, TooManyFieldsSent):
        return ApplicationError(
            f"More than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields in the request "
            "(DATA_UPLOAD_MAX_NUMBER_FIELDS)."
        )
    if isinstance(exc, TooManyFilesSent):
        return ApplicationError(
            f"More than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files in the request "
            "(DATA_UPLOAD_MAX_NUMBER_FILES).",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = request_limit_error(exc) or exc
    if isinstance(exc, ApplicationError):
        return Response(
            {"message": exc.message, "extra": exc.extra, "code": exc.code, "params": exc.params},
            status=exc.status_code,
        )
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: a bug, left to Django's 500 handling and logging
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {
            "message": "Invalid input: " + _flatten(fields),
            "extra": {"fields": fields},
            "code": "invalid",
            "params": {"fields": sorted(str(name) for name in fields)},
        }
    else:
        params = {"wait": exc.wait} if isinstance(exc, exceptions.Throttled) else {}
        response.data = {
            "message": _flatten(exc.detail),
            "extra": {},
            "code": getattr(exc, "default_code", "error"),
            "params": params,
        }
    return response
