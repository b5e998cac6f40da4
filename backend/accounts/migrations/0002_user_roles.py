"""Several roles per user: UserRole rows, copied from the old single ``User.role`` field."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def roles_from_field(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    UserRole = apps.get_model("accounts", "UserRole")
    UserRole.objects.bulk_create(
        [UserRole(user_id=pk, role=role) for pk, role in User.objects.values_list("pk", "role") if role]
    )


def field_from_roles(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    UserRole = apps.get_model("accounts", "UserRole")
    precedence = ["admin", "study_admin", "physician", "reader"]
    for user in User.objects.all():
        held = set(UserRole.objects.filter(user_id=user.pk).values_list("role", flat=True))
        user.role = next((r for r in precedence if r in held), "physician")
        user.save(update_fields=["role"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="UserRole",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("physician", "Physician"),
                            ("reader", "Reader-study participant"),
                            ("study_admin", "Study admin"),
                            ("admin", "Admin"),
                        ],
                        max_length=20,
                    ),
                ),
                ("granted_at", models.DateTimeField(auto_now_add=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="role_grants",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["user", "role"],
                "constraints": [
                    models.UniqueConstraint(fields=("user", "role"), name="user_role_unique")
                ],
            },
        ),
        migrations.RunPython(roles_from_field, field_from_roles),
        migrations.RemoveField(model_name="user", name="role"),
    ]
