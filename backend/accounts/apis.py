from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.permissions import primary_role, roles_of
from accounts.services import session_login, session_logout


class UserOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    # The strongest role (what a single label shows); ``roles``: every role the user holds.
    role = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()
    preferred_language = serializers.CharField()

    def get_role(self, user) -> str:
        return primary_role(user)

    def get_roles(self, user) -> list[str]:
        return sorted(roles_of(user))


class CsrfApi(APIView):
    """Sets the CSRF cookie and returns the token, for the single-page app before it logs in."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: serializers.DictField()})
    def get(self, request):
        return Response({"csrfToken": get_token(request)})


# DRF only checks CSRF for already-authenticated sessions; login needs it too (login CSRF).
@method_decorator(csrf_protect, name="dispatch")
class LoginApi(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=256, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses=UserOutputSerializer)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = session_login(request=request, **data.validated_data)
        return Response(UserOutputSerializer(user).data)


class LogoutApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        session_logout(request=request)
        return Response(status=204)


class MeApi(APIView):
    @extend_schema(responses=UserOutputSerializer)
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)
