"""Reads of reading time."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.exceptions import NotFoundError
from readerstudies.models import CaseView


def case_view_get_for_user(*, user: Any, view_id: str) -> CaseView:
    """A case view of this user (admins and study admins may read anyone's)."""
    views: QuerySet[CaseView] = CaseView.objects.select_related("study")
    if getattr(user, "role", None) not in ("admin", "study_admin") and not user.is_superuser:
        views = views.filter(user=user)
    view = views.filter(client_view_id=view_id).first()
    if view is None:
        raise NotFoundError(f"No case view {view_id}.")
    return view
