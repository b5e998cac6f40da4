from django.conf import settings
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken
from accounts.permissions import primary_role, roles_of
from accounts.services import session_login, session_logout
from accounts.tokens import api_token_create, api_token_revoke, user_logout_everywhere


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


class CsrfOutputSerializer(serializers.Serializer):
    csrfToken = serializers.CharField()  # noqa: N815 (the name the frontend reads)


class CsrfApi(APIView):
    """Sets the CSRF cookie and returns the token, for the single-page app before it logs in."""

    permission_classes = [AllowAny]

    @extend_schema(responses=CsrfOutputSerializer)
    def get(self, request):
        return Response({"csrfToken": get_token(request)})


# DRF only checks CSRF for already-authenticated sessions; login needs it too (login CSRF).
@method_decorator(csrf_protect, name="dispatch")
class LoginApi(APIView):
    """Password login. Failures count towards the lock-out of the account and the client."""

    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=256, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses=UserOutputSerializer)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = session_login(request=request._request, **data.validated_data)
        return Response(UserOutputSerializer(user).data)


class LogoutApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        session_logout(request=request)
        return Response(status=204)


class LogoutEverywhereOutputSerializer(serializers.Serializer):
    sessions_ended = serializers.IntegerField()
    tokens_revoked = serializers.IntegerField()


class LogoutEverywhereApi(APIView):
    """End every session of the signed-in user (this one too) and revoke all their API tokens."""

    @extend_schema(request=None, responses=LogoutEverywhereOutputSerializer)
    def post(self, request):
        counts = user_logout_everywhere(user=request.user)
        session_logout(request=request)
        return Response(LogoutEverywhereOutputSerializer(counts).data)


class MeApi(APIView):
    @extend_schema(responses=UserOutputSerializer)
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)


class ApiTokenOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created", "expires", "last_used", "revoked"]


class ApiTokenCreatedOutputSerializer(ApiTokenOutputSerializer):
    key = serializers.CharField(help_text="The token; shown only in this response.")

    class Meta(ApiTokenOutputSerializer.Meta):
        fields = [*ApiTokenOutputSerializer.Meta.fields, "key"]


class ApiTokenListApi(APIView):
    """The signed-in user's own API tokens (only a prefix of each is shown); create one."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        expires_in_days = serializers.IntegerField(
            required=False, min_value=1, max_value=settings.API_TOKEN_MAX_DAYS
        )

    @extend_schema(responses=ApiTokenOutputSerializer(many=True))
    def get(self, request):
        tokens = ApiToken.objects.filter(user=request.user)
        return Response(ApiTokenOutputSerializer(tokens, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ApiTokenCreatedOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = api_token_create(user=request.user, **data.validated_data)
        body = ApiTokenOutputSerializer(created.token).data
        return Response({**body, "key": created.key}, status=status.HTTP_201_CREATED)


class ApiTokenDetailApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request, token_id):
        api_token_revoke(user=request.user, token_id=str(token_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
