#!/usr/bin/env bash
# Every check of the project, in order: lint, frontend checks, then all pytest suites
# (backend, ml, end-to-end in Chromium). `make test` runs this after set-up.
# With DATABASE_URL / CELERY_BROKER_URL set (CI: PostgreSQL and Redis) the tests use them;
# without, the embedded default (SQLite and kombu's filesystem transport under var/test).
set -euo pipefail
cd "$(dirname "$0")/.."

export BONEREAD_VAR_DIR="${BONEREAD_VAR_DIR:-$PWD/var/test}"
# A queue of its own, so that the tests never feed (or are fed by) a demo worker on the same broker.
export CELERY_QUEUE="${CELERY_QUEUE:-boneread-test-$$}"
PY=.venv/bin/python

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

if [[ -f frontend/package.json ]]; then
  echo "== frontend: type check, format check, unit tests"
  (cd frontend && npm run --silent typecheck && npm run --silent lint && npm test)
fi

echo "== static files"
$PY backend/manage.py collectstatic --noinput -v0

echo "== OpenAPI schema (no error, no warning)"
$PY backend/manage.py spectacular --validate --fail-on-warn --file "$BONEREAD_VAR_DIR/openapi.yaml"

echo "== pytest (database: ${DATABASE_URL:-embedded SQLite}; broker: ${CELERY_BROKER_URL:-embedded filesystem})"
# pytest exits 5 when it collected no test: that fails this script like any other failure.
$PY -m pytest tests "$@"
