"""Reads of reading time."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import Role
from accounts.permissions import has_role
from core.exceptions import NotFoundError
from readerstudies.models import CaseView


def case_view_get_for_user(*, user: Any, view_id: str) -> CaseView:
    """A case view of this user (admins and study admins may read anyone's)."""
    views: QuerySet[CaseView] = CaseView.objects.select_related("study")
    if not has_role(user, Role.ADMIN, Role.STUDY_ADMIN):
        views = views.filter(user=user)
    view = views.filter(client_view_id=view_id).first()
    if view is None:
        raise NotFoundError(f"No case view {view_id}.")
    return view


# --- The reader-study side of the one study-access rule (issues 11 and 12) --------------------
# ``studies.selectors.study_queryset_for_user`` (the single study-access selector) asks these for
# readers and study admins; ``inference.selectors.ai_access_check`` asks ``ai_job_ids_allowed``
# for every AI read (results, lesion tables, label maps, SEG series). Until reader studies exist,
# readers see no case and study admins administer none.


def reader_study_ids_for_user(*, user: Any) -> QuerySet:
    """Ids of the studies (archive ``Study`` rows) a reader may open now: the cases of their
    current reader-study session. A values queryset, usable in ``id__in=``."""
    from studies.models import Study

    return Study.objects.none().values("id")


def study_admin_study_ids_for_user(*, user: Any) -> QuerySet:
    """Ids of the studies that are cases of the reader studies ``user`` administers."""
    from studies.models import Study

    return Study.objects.none().values("id")


def ai_job_ids_allowed(*, user: Any, study: Any) -> frozenset | None:
    """Which AI results (``InferenceJob`` ids) of ``study`` the user may see.

    None: no reader-study restriction (physicians, admins). An empty set: none (a reader in the
    unaided arm, or a case outside their session). Otherwise only these jobs: the study's frozen
    result for the aided arm.
    """
    return None
