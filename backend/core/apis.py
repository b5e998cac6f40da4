from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import has_role
from core.selectors import health_status


class ComponentHealthSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField()
    required = serializers.BooleanField()
    latency_ms = serializers.FloatField(allow_null=True)


class HealthOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["up", "down"])
    components = serializers.DictField(
        child=ComponentHealthSerializer(),
        required=False,
        help_text="Per part (database, broker, worker, models); admins only.",
    )


class HealthApi(APIView):
    """Liveness of every required part; 503 when one is down (for load balancers and compose).

    Anyone may ask whether BoneRead is up; only admins see the parts, which name hosts,
    database engines and worker names.
    """

    permission_classes = [AllowAny]

    @extend_schema(responses={200: HealthOutputSerializer, 503: HealthOutputSerializer})
    def get(self, request):
        report = health_status()
        up = report["status"] == "ok"
        body: dict = {"status": "up" if up else "down"}
        if has_role(request.user, Role.ADMIN):
            body["components"] = report["components"]
        code = status.HTTP_200_OK if up else status.HTTP_503_SERVICE_UNAVAILABLE
        return Response(body, status=code)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
def api_not_found(request, *args, **kwargs):
    """Any unknown path under /api/: a JSON 404 in the API's error shape, not an HTML page."""
    raise exceptions.NotFound(f"No API endpoint at {request.path}.")
