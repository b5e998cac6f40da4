from django.urls import path

from accounts.apis import (
    ApiTokenDetailApi,
    ApiTokenListApi,
    CsrfApi,
    LoginApi,
    LogoutApi,
    LogoutEverywhereApi,
    MeApi,
)

urlpatterns = [
    path("csrf", CsrfApi.as_view(), name="auth-csrf"),
    path("login", LoginApi.as_view(), name="auth-login"),
    path("logout", LogoutApi.as_view(), name="auth-logout"),
    path("logout-everywhere", LogoutEverywhereApi.as_view(), name="auth-logout-everywhere"),
    path("me", MeApi.as_view(), name="auth-me"),
    path("tokens", ApiTokenListApi.as_view(), name="auth-tokens"),
    path("tokens/<uuid:token_id>", ApiTokenDetailApi.as_view(), name="auth-token"),
]
