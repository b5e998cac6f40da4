"""Roles are assigned in the Django admin (the user's page, "User roles" rows)."""

from __future__ import annotations

from html.parser import HTMLParser

from django.test import Client

from accounts.models import User
from accounts.permissions import roles_of


class _FormFields(HTMLParser):
    """The values a browser would post back from the page's change form."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, list[str]] = {}
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.setdefault(name, []).append(a.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select].append(a.get("value") or "")
        elif tag == "textarea" and name:
            self.fields.setdefault(name, [""])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def test_admin_assigns_a_second_role_and_the_admin_role_makes_staff(world):
    admin = Client()
    admin.force_login(world.users["admin"])
    reader = world.users["reader"]
    url = f"/admin/accounts/user/{reader.pk}/change/"
    page = admin.get(url)
    assert page.status_code == 200
    parser = _FormFields()
    parser.feed(page.content.decode())
    data = {k: v for k, v in parser.fields.items() if not k.startswith("role_grants-__prefix__")}
    # The existing row (reader) stays; the empty extra row gets "physician".
    total = int(data["role_grants-TOTAL_FORMS"][0])
    data[f"role_grants-{total - 1}-role"] = ["physician"]
    response = admin.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    reader.refresh_from_db()
    assert roles_of(reader) == {"reader", "physician"}
    assert not reader.is_staff

    page = admin.get(url)
    parser = _FormFields()
    parser.feed(page.content.decode())
    data = {k: v for k, v in parser.fields.items() if not k.startswith("role_grants-__prefix__")}
    total = int(data["role_grants-TOTAL_FORMS"][0])
    data[f"role_grants-{total - 1}-role"] = ["admin"]
    assert admin.post(url, data).status_code == 302
    reader = User.objects.get(pk=reader.pk)  # roles are cached per user object
    assert roles_of(reader) == {"reader", "physician", "admin"} and reader.is_staff
