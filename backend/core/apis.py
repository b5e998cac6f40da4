from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.selectors import health_status


class HealthApi(APIView):
    """Liveness of every required part; 503 when one is down (for load balancers and compose)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        responses=inline_serializer(
            "Health", {"status": serializers.CharField(), "components": serializers.DictField()}
        )
    )
    def get(self, request):
        report = health_status()
        code = (
            status.HTTP_200_OK if report["status"] == "ok" else status.HTTP_503_SERVICE_UNAVAILABLE
        )
        return Response(report, status=code)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
def api_not_found(request, *args, **kwargs):
    """Any unknown path under /api/: a JSON 404 in the API's error shape, not an HTML page."""
    raise exceptions.NotFound(f"No API endpoint at {request.path}.")
