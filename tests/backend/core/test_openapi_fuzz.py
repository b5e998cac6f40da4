"""Schemathesis against the OpenAPI schema, through the WSGI app, as an admin.

Every operation of the schema gets a few generated requests (NUL characters, huge numbers and
negative values mixed into the query parameters and bodies on top of schemathesis' own data);
no answer may be a 5xx, and every answer must match the schema (status, media type, body).
Bounded: MAX_EXAMPLES per operation, a deadline per request; about a minute on 2 cores.
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from accounts.models import Role
from accounts.services import user_create
from accounts.tokens import api_token_create
from studies.models import Patient, Study

MAX_EXAMPLES = 8
# Left out: logout-everywhere ends the admin's own token mid-run (tested in
# tests/backend/accounts); health answers 503 without a worker and is tested in test_health.
EXCLUDED_PATHS = ["/api/auth/logout-everywhere", "/api/health"]
NASTY_VALUES = ["\x00", "a\x00b", "9" * 40, "-1", "0", "1e308", "../../etc/passwd", "%00", "日本"]


@pytest.fixture
def wsgi_app(db):
    """Keep the WSGI app from closing the test's database connection after each request (as
    Django's test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# Loaded when the module is collected: the schema view needs no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application()).exclude(
    path=EXCLUDED_PATHS
)


@schema.hook
def flatmap_query(ctx, query):
    # Besides schemathesis' values: a known-nasty value in one parameter, at times.
    if not query:
        return st.just(query)
    return st.one_of(
        st.just(query),
        st.tuples(st.sampled_from(sorted(query)), st.sampled_from(NASTY_VALUES)).map(
            lambda kv: {**query, kv[0]: kv[1]}
        ),
    )


@schema.hook
def flatmap_body(ctx, body):
    if not isinstance(body, dict) or not body:
        return st.just(body)
    return st.one_of(
        st.just(body),
        st.tuples(
            st.sampled_from(sorted(body)),
            st.sampled_from([*NASTY_VALUES, 10**30, -(10**30), [[[[[]]]]], {"a": "\x00"}]),
        ).map(lambda kv: {**body, kv[0]: kv[1]}),
    )


@pytest.fixture
def admin_token(db):
    admin = user_create(username="fuzz-admin", password="Bone-scan-2026", role=Role.ADMIN)
    patient = Patient.objects.create(patient_key="F1", patient_id="F1", name="FUZZ^TEST")
    Study.objects.create(study_instance_uid="1.2.826.0.1.3680043.2.1", patient=patient)
    return api_token_create(user=admin, name="schemathesis").key


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)
def test_api_conforms_to_its_schema(case, wsgi_app, admin_token, settings):
    settings.AXES_FAILURE_LIMIT = 10**6  # generated logins must not lock the test client out
    case.call_and_validate(
        headers={"Authorization": f"Token {admin_token}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
