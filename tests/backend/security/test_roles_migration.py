"""The data migration from the old single ``User.role`` field to one UserRole row per role."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

OLD = [("accounts", "0001_initial")]
NEW = [("accounts", "0002_user_roles")]


@pytest.mark.django_db(transaction=True)
def test_each_user_keeps_their_role_as_a_role_row():
    executor = MigrationExecutor(connection)
    executor.migrate(OLD)
    old_apps = executor.loader.project_state(OLD).apps
    OldUser = old_apps.get_model("accounts", "User")  # noqa: N806
    for username, role in (("wang", "physician"), ("li", "reader"), ("boss", "admin")):
        OldUser.objects.create(username=username, role=role)

    executor = MigrationExecutor(connection)  # a fresh graph, as a new `migrate` run has
    executor.migrate(NEW)
    from accounts.models import User
    from accounts.permissions import roles_of

    assert {u.username: roles_of(u) for u in User.objects.all()} == {
        "wang": {"physician"},
        "li": {"reader"},
        "boss": {"admin"},
    }
    # And back: the strongest role returns to the single field.
    executor = MigrationExecutor(connection)
    executor.migrate(OLD)
    old_apps = executor.loader.project_state(OLD).apps
    roles = dict(old_apps.get_model("accounts", "User").objects.values_list("username", "role"))
    assert roles == {"wang": "physician", "li": "reader", "boss": "admin"}
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
