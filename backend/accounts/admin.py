from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import Role, User, UserRole
from accounts.services import user_roles_set


class UserRoleInline(admin.TabularInline):
    """Assign roles here: one row per role (a user may hold several)."""

    model = UserRole
    extra = 1
    fields = ("role", "granted_at")
    readonly_fields = ("granted_at",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "roles_display", "is_active", "last_login")
    list_filter = ("role_grants__role", "is_active")
    inlines = [UserRoleInline]
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("BoneRead", {"fields": ("display_name", "preferred_language")}),
    )
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (("BoneRead", {"fields": ("display_name",)}),)

    def save_related(self, request, form, formsets, change):
        """Keep staff/superuser in step with the admin role (a superuser holds the admin role)."""
        super().save_related(request, form, formsets, change)
        user = form.instance
        roles = set(user.role_grants.values_list("role", flat=True))
        if user.is_superuser:
            roles.add(Role.ADMIN)
        user_roles_set(user=user, roles=roles)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("role_grants")

    @admin.display(description="roles")
    def roles_display(self, obj: User) -> str:
        return ", ".join(sorted(grant.role for grant in obj.role_grants.all()))
