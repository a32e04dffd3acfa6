import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_check(env_overrides: dict, *args: str) -> subprocess.CompletedProcess:
    # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests in this process only.
    unset = {"SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_settings_fail_clearly_without_secret_key_when_debug_is_off(tmp_path):
    # An empty .env elsewhere must not supply the key: point HOME/cwd at the repo anyway.
    result = run_check({"DEBUG": "false", "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY environment variable is required" in result.stderr


def test_settings_start_without_secret_key_in_debug():
    result = run_check({"DEBUG": "true", "SECRET_KEY": ""})
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run_check(
        {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "blog.example.com",
            "SITE_URL": "https://blog.example.com",
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def load_setting(env_overrides: dict, expression: str):
    """`expression` evaluated on the settings a fresh process loads with these variables."""
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update({"SECRET_KEY": "x", "DEBUG": "false", **env_overrides})
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "from django.db import connections; "
        f"print(json.dumps({expression}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "blogsite.settings"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


PG_URL = "postgres://blog:pw@db.internal:5432/blog"
# The dict Django connects with, defaults filled in (no connection is opened).
DEFAULT_DB = "connections['default'].settings_dict"


def test_postgres_uses_persistent_connections_with_health_checks():
    default = load_setting({"DATABASE_URL": PG_URL, "CONN_MAX_AGE": "120"}, DEFAULT_DB)
    assert default["ENGINE"] == "core.db.postgresql"
    assert (default["CONN_MAX_AGE"], default["CONN_HEALTH_CHECKS"]) == (120, True)
    assert not default.get("DISABLE_SERVER_SIDE_CURSORS")
    assert "pool" not in default["OPTIONS"]
    assert "prepare_threshold" not in default["OPTIONS"]


@pytest.mark.django_db
def test_a_query_may_bind_more_than_65535_values_on_postgresql():
    # Client-side binding: server-side binding caps a statement at 65,535
    # parameters, and Django does not split an __in list on PostgreSQL.
    from django.db import connection

    from posts.models import Post

    if connection.vendor != "postgresql":
        assert "server_side_binding" not in connection.settings_dict["OPTIONS"]
        return
    assert Post.objects.filter(slug__in=[f"s{n}" for n in range(70_000)]).count() == 0


def test_pgbouncer_mode_disables_server_side_cursors_and_prepared_statements():
    default = load_setting({"DATABASE_URL": PG_URL, "PGBOUNCER": "true"}, DEFAULT_DB)
    assert default["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert default["OPTIONS"] == {"prepare_threshold": None}
    assert "pool" not in default["OPTIONS"]
    assert (default["CONN_MAX_AGE"], default["CONN_HEALTH_CHECKS"]) == (60, True)


def test_pgbouncer_mode_keeps_options_given_in_the_url():
    default = load_setting(
        {"DATABASE_URL": PG_URL + "?sslmode=require", "PGBOUNCER": "true"}, DEFAULT_DB
    )
    assert default["OPTIONS"] == {"sslmode": "require", "prepare_threshold": None}


def test_sqlite_ignores_pgbouncer():
    default = load_setting(
        {"DATABASE_URL": "sqlite:////tmp/x.sqlite3", "PGBOUNCER": "true"}, DEFAULT_DB
    )
    assert not default.get("DISABLE_SERVER_SIDE_CURSORS")
    assert "prepare_threshold" not in default["OPTIONS"]
    assert default["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.parametrize(
    ("env", "formatter"),
    [
        ({"DEBUG": "false"}, "core.requestlog.JSONFormatter"),
        ({"DEBUG": "true"}, None),
        ({"DEBUG": "true", "LOG_FORMAT": "json"}, "core.requestlog.JSONFormatter"),
        ({"DEBUG": "false", "LOG_FORMAT": "text"}, None),
    ],
)
def test_log_format_defaults_to_json_unless_debug(env, formatter):
    logging = load_setting(env, "settings.LOGGING")
    name = logging["handlers"]["requests"]["formatter"]
    assert logging["formatters"][name].get("()") == formatter


def test_an_unknown_log_format_is_refused_in_one_line():
    result = run_check({"LOG_FORMAT": "xml", "SECRET_KEY": "x"})
    assert result.returncode != 0
    assert "LOG_FORMAT must be json or text, not 'xml'." in result.stderr
