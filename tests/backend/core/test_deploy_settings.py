"""Production settings: `check --deploy` is clean, and the public fallback SECRET_KEY is refused."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
BUILT_IN_KEY = "insecure-embedded-default-do-not-use-in-production"


def run_manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE: set in this process by the browser tests (Playwright's
        # event loop), never in a deployment
        if k
        not in {
            "SECRET_KEY",
            "DEBUG",
            "PRODUCTION",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
        and not k.startswith(("SECURE_", "BEHIND_"))
    }
    full = {**base, "BONEREAD_VAR_DIR": str(tmp_path), "PYTHONPATH": str(REPO / "backend"), **env}
    return subprocess.run(
        [sys.executable, str(REPO / "backend" / "manage.py"), *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_ENV = {
    "PRODUCTION": "true",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "boneread.hospital.example",
    "CSRF_TRUSTED_ORIGINS": "https://boneread.hospital.example",
}


def test_check_deploy_is_clean_in_production(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION_ENV, "SECRET_KEY": secrets.token_urlsafe(50)},
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_without_the_production_defaults(tmp_path):
    """The check above can fail: turning secure cookies off makes it complain."""
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION_ENV, "SECRET_KEY": secrets.token_urlsafe(50), "SECURE_COOKIES": "false"},
        tmp_path=tmp_path,
    )
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stdout + result.stderr


@pytest.mark.parametrize("production", ["true", "false"])
def test_built_in_key_is_refused_when_debug_is_off(tmp_path, production):
    result = run_manage(
        "check",
        env={"SECRET_KEY": BUILT_IN_KEY, "DEBUG": "false", "PRODUCTION": production},
        tmp_path=tmp_path,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is the built-in fallback key" in result.stderr


def test_production_without_a_key_is_refused(tmp_path):
    result = run_manage("check", env=PRODUCTION_ENV, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set in production" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_embedded_setup_generates_one_key_and_keeps_it(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = run_manage("shell", "-c", code, env={"DEBUG": "false"}, tmp_path=tmp_path)
    second = run_manage("shell", "-c", code, env={"DEBUG": "false"}, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    key = (tmp_path / "secret_key").read_text().strip()
    assert len(key) >= 50 and key != BUILT_IN_KEY
    assert first.stdout.split()[-1] == second.stdout.split()[-1] == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
