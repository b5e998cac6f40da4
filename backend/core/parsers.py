"""The API's JSON parser: bounded nesting and no NUL characters anywhere in the document."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


def json_check(value: Any, *, max_depth: int) -> None:
    """Raise ParseError if ``value`` nests deeper than ``max_depth`` or holds a NUL character."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise ParseError(
                    f"JSON nested deeper than {max_depth} levels (API_MAX_JSON_DEPTH)."
                )
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str) and "\x00" in key:
                    raise ParseError("A JSON key contains a NUL character (\\u0000).")
                stack.append((child, depth + 1))
        elif isinstance(item, str) and "\x00" in item:
            raise ParseError(
                "A JSON string contains a NUL character (\\u0000), which no field accepts."
            )


class PayloadTooLarge(APIException):
    status_code = 413
    default_detail = "The request body is too large."


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser reads the request stream itself, past Django's body limit: bound it."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(
                f"The JSON body is larger than the limit of {limit} bytes "
                "(DATA_UPLOAD_MAX_MEMORY_SIZE)."
            )
        try:
            data = json.loads(raw.decode((parser_context or {}).get("encoding") or "utf-8"))
        except RecursionError as exc:
            raise ParseError(
                f"JSON nested deeper than {settings.API_MAX_JSON_DEPTH} levels "
                "(API_MAX_JSON_DEPTH)."
            ) from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        json_check(data, max_depth=settings.API_MAX_JSON_DEPTH)
        return data
