"""Settings come from the environment, with safe embedded defaults (sgpadmin/settings.py).

Each case loads the settings in a fresh interpreter, since they are read once at import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sgpadmin.env import ConfigurationError, env_bool, env_int, env_list, env_str

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_VARIABLES = (
    "SGPADMIN_MODE",
    "SGPADMIN_VAR_DIR",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
)
PROBE = """
import json
from django.conf import settings
from sgpadmin.celery import app
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SECRET_KEY": settings.SECRET_KEY,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "SESSION_COOKIE_SECURE": getattr(settings, "SESSION_COOKIE_SECURE", False),
    "ENGINE": db["ENGINE"], "NAME": str(db["NAME"]), "HOST": db.get("HOST", ""),
    "PORT": db.get("PORT", ""), "USER": db.get("USER", ""),
    "broker_url": app.conf.broker_url,
    "result_backend": app.conf.result_backend,
    "transport_options": app.conf.broker_transport_options,
}))
"""


def load_settings(tmp_path, probe: str = PROBE, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    clean.update(
        DJANGO_SETTINGS_MODULE="sgpadmin.settings",
        SGPADMIN_VAR_DIR=str(tmp_path),
        PYTHONPATH=str(REPO_ROOT),
    )
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_in(tmp_path, **env: str) -> dict:
    result = load_settings(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_mode_without_secret_key_refuses_to_start(tmp_path):
    result = load_settings(tmp_path, SGPADMIN_MODE="production")
    assert result.returncode != 0
    assert "ConfigurationError: SECRET_KEY is required" in result.stderr


def test_production_is_the_default_mode(tmp_path):
    result = load_settings(tmp_path)  # no SGPADMIN_MODE at all
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_production_mode_with_a_secret_key(tmp_path):
    values = settings_in(tmp_path, SGPADMIN_MODE="production", SECRET_KEY="s3cret-from-env")
    assert values["SECRET_KEY"] == "s3cret-from-env"
    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == []
    assert values["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(("mode", "debug"), [("demo", True), ("test", False)])
def test_embedded_modes_need_no_secret_key_and_debug_is_on_only_in_the_demo(tmp_path, mode, debug):
    values = settings_in(tmp_path, SGPADMIN_MODE=mode)
    assert values["DEBUG"] is debug
    assert "insecure" in values["SECRET_KEY"]
    assert "127.0.0.1" in values["ALLOWED_HOSTS"]


def test_debug_can_be_turned_off_in_the_demo_but_garbage_is_refused(tmp_path):
    assert settings_in(tmp_path, SGPADMIN_MODE="demo", DEBUG="false")["DEBUG"] is False
    result = load_settings(tmp_path, SGPADMIN_MODE="demo", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_unknown_mode_is_refused(tmp_path):
    result = load_settings(tmp_path, SGPADMIN_MODE="staging")
    assert result.returncode != 0
    assert "SGPADMIN_MODE='staging'" in result.stderr


def test_database_defaults_to_sqlite_under_the_var_dir(tmp_path):
    values = settings_in(tmp_path, SGPADMIN_MODE="test")
    assert values["ENGINE"] == "django.db.backends.sqlite3"
    assert values["NAME"] == str(tmp_path / "sgpadmin.sqlite3")


def test_database_url_is_respected(tmp_path):
    values = settings_in(
        tmp_path,
        SGPADMIN_MODE="production",
        SECRET_KEY="x",
        DATABASE_URL="postgres://sgp:pw@db.internal:6543/governance",
    )
    assert values["ENGINE"] == "django.db.backends.postgresql"
    assert (values["NAME"], values["HOST"], values["PORT"], values["USER"]) == (
        "governance",
        "db.internal",
        6543,
        "sgp",
    )


def test_redis_url_selects_redis_for_broker_and_results(tmp_path):
    values = settings_in(tmp_path, SGPADMIN_MODE="test", REDIS_URL="redis://cache.internal:6380/3")
    assert values["broker_url"] == "redis://cache.internal:6380/3"
    assert values["result_backend"] == "redis://cache.internal:6380/3"


def test_without_redis_the_broker_is_a_directory_under_the_var_dir(tmp_path):
    values = settings_in(tmp_path, SGPADMIN_MODE="test")
    assert values["broker_url"] == "filesystem://"
    assert values["result_backend"] == f"db+sqlite:///{tmp_path / 'celery-results.sqlite3'}"
    options = values["transport_options"]
    assert (
        options["data_folder_in"]
        == options["data_folder_out"]
        == str(tmp_path / "broker" / "queue")
    )
    assert options["processed_folder"].startswith(str(tmp_path))


# --- the typed environment readers ------------------------------------------------------------


def test_env_readers(monkeypatch):
    monkeypatch.setenv("SGP_T_STR", "")
    assert env_str("SGP_T_STR", "fallback") == "fallback"  # empty counts as unset
    monkeypatch.setenv("SGP_T_BOOL", " Yes ")
    assert env_bool("SGP_T_BOOL") is True
    monkeypatch.setenv("SGP_T_BOOL", "off")
    assert env_bool("SGP_T_BOOL", True) is False
    monkeypatch.setenv("SGP_T_INT", "42")
    assert env_int("SGP_T_INT", 1) == 42
    monkeypatch.setenv("SGP_T_LIST", "a, b,,c ")
    assert env_list("SGP_T_LIST", []) == ["a", "b", "c"]
    monkeypatch.delenv("SGP_T_LIST")
    assert env_list("SGP_T_LIST", ["d"]) == ["d"]


def test_env_readers_refuse_garbage(monkeypatch):
    monkeypatch.setenv("SGP_T_INT", "forty")
    with pytest.raises(ConfigurationError, match="SGP_T_INT='forty' is not an integer"):
        env_int("SGP_T_INT", 1)
    monkeypatch.setenv("SGP_T_BOOL", "2")
    with pytest.raises(ConfigurationError, match="is not a boolean"):
        env_bool("SGP_T_BOOL")


def test_trusted_proxies_are_networks_and_garbage_is_refused(tmp_path):
    probe = "from django.conf import settings; print([str(n) for n in settings.TRUSTED_PROXIES])"
    good = load_settings(tmp_path, probe, SGPADMIN_MODE="test",
                         SGPADMIN_TRUSTED_PROXIES="10.0.0.0/16, 192.168.1.5")
    assert good.stdout.strip() == "['10.0.0.0/16', '192.168.1.5/32']", good.stderr
    bad = load_settings(tmp_path, probe, SGPADMIN_MODE="test",
                        SGPADMIN_TRUSTED_PROXIES="10.0.0.0/16, ingress")
    assert bad.returncode != 0
    assert "SGPADMIN_TRUSTED_PROXIES: 'ingress' is not an address or CIDR" in bad.stderr
