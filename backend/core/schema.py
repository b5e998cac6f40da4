"""OpenAPI schema generation (drf-spectacular): names, the error shape, authentication schemes.

* Component names come from the qualified class name, so that the ``InputSerializer`` nested
  in each API class is its own component (``LoginApiInput``, ``ReportSignApiInput``), instead of
  every request body resolving to the first class named ``Input``.
* Every operation documents the one error shape (``{"message", "extra"}``) for 4xx answers.
* The project's own authentication classes are described like DRF's.
"""

from __future__ import annotations

from drf_spectacular.authentication import BasicScheme, TokenScheme
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    message = serializers.CharField(help_text="What is wrong, in words a user can act on.")
    extra = serializers.DictField(help_text="Structured details (field errors, limits, ...).")


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer, direction) -> str:
        cls = serializer.__class__
        qualname = cls.__qualname__
        if "." in qualname:  # nested in a view: prefix with the view's name
            outer, _, inner = qualname.rpartition(".")
            return outer.replace(".", "") + inner
        return cls.__name__

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction == "response" and not any(code.startswith("4") for code in responses):
            responses["4XX"] = self._get_response_for_code(
                ErrorSerializer, "4XX", media_types=["application/json"], direction=direction
            )
            responses["4XX"]["description"] = "The request is refused; the message says why."
        return responses


class ApiTokenScheme(TokenScheme):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "tokenAuth"
    priority = 1


class ThrottledBasicScheme(BasicScheme):
    target_class = "accounts.authentication.ThrottledBasicAuthentication"
    name = "basicAuth"
