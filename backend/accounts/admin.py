from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("BoneRead", {"fields": ("role", "display_name", "preferred_language")}),
    )
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (
        ("BoneRead", {"fields": ("role", "display_name")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Admins see who holds which token and may revoke one; the key itself is never stored."""

    list_display = ("prefix", "name", "user", "created", "expires", "last_used", "revoked")
    list_filter = ("revoked",)
    search_fields = ("user__username", "name", "prefix")
    fields = ("user", "name", "prefix", "created", "expires", "last_used", "revoked")
    readonly_fields = ("user", "name", "prefix", "created", "expires", "last_used")

    def has_add_permission(self, request) -> bool:
        return False  # a token is created by its owner, through the API
