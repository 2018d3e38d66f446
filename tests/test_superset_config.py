"""superset_config.py: secrets from the environment, safe defaults everywhere else."""

from __future__ import annotations

import importlib.util
import os
import secrets
import subprocess
import sys
from pathlib import Path

from access_analytics.superset import settings


def load_config(monkeypatch, tmp_path: Path, **env: str):
    for name in ("SUPERSET_SECRET_KEY", "SUPERSET_DATABASE_URI", "SUPERSET_CACHE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SUPERSET_VAR_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("superset_config", settings.SUPERSET_CONFIG)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_secret_key_only_comes_from_the_environment(monkeypatch, tmp_path):
    assert not hasattr(load_config(monkeypatch, tmp_path), "SECRET_KEY")
    key = secrets.token_urlsafe(32)  # made up per run: no key is ever written in the code
    config = load_config(monkeypatch, tmp_path, SUPERSET_SECRET_KEY=key)
    assert key == config.SECRET_KEY


def test_local_state_defaults_to_the_var_folder(monkeypatch, tmp_path):
    config = load_config(monkeypatch, tmp_path)
    metadata_db = config.SQLALCHEMY_DATABASE_URI
    assert metadata_db == f"sqlite:///{tmp_path / 'superset.db'}"
    for cache in (config.DATA_CACHE_CONFIG, config.FILTER_STATE_CACHE_CONFIG):
        assert cache["CACHE_TYPE"] == "FileSystemCache"
        assert cache["CACHE_DIR"].startswith(str(tmp_path))


def test_production_passes_its_own_metadata_db_and_redis(monkeypatch, tmp_path):
    config = load_config(
        monkeypatch,
        tmp_path,
        SUPERSET_DATABASE_URI="postgresql://superset@db/superset",
        SUPERSET_CACHE_REDIS_URL="redis://cache:6379/0",
    )
    metadata_db = config.SQLALCHEMY_DATABASE_URI
    assert metadata_db == "postgresql://superset@db/superset"
    assert config.DATA_CACHE_CONFIG["CACHE_TYPE"] == "RedisCache"
    assert config.FILTER_STATE_CACHE_CONFIG["CACHE_REDIS_URL"] == "redis://cache:6379/0"


def test_web_security_is_on_and_the_public_role_is_empty(monkeypatch, tmp_path):
    config = load_config(monkeypatch, tmp_path)
    assert config.WTF_CSRF_ENABLED is True
    assert config.TALISMAN_ENABLED is True
    assert config.PUBLIC_ROLE_LIKE is None
    assert config.ROW_LIMIT <= 10000


def test_superset_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SUPERSET_SECRET_KEY"}
    env.update(
        SUPERSET_CONFIG_PATH=str(settings.SUPERSET_CONFIG),
        SUPERSET_VAR_DIR=str(tmp_path),
        SUPERSET_DATABASE_URI=f"sqlite:///{tmp_path / 'superset.db'}",
    )
    result = subprocess.run(
        [sys.executable, "-c", "from superset.app import create_app; create_app()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "Refusing to start due to insecure SECRET_KEY" in result.stdout + result.stderr


def test_cookies_login_limits_and_duckdb_guards(monkeypatch, tmp_path):
    config = load_config(monkeypatch, tmp_path)
    assert config.SESSION_COOKIE_HTTPONLY is True
    assert config.SESSION_COOKIE_SAMESITE == "Lax"
    # Secure cookies and trusting X-Forwarded-* only behind the TLS proxy.
    assert config.SESSION_COOKIE_SECURE is False and config.ENABLE_PROXY_FIX is False
    behind_tls = load_config(monkeypatch, tmp_path, SUPERSET_HTTPS="true")
    assert behind_tls.SESSION_COOKIE_SECURE is True and behind_tls.ENABLE_PROXY_FIX is True
    assert config.RATELIMIT_ENABLED is True and config.LOGIN_FAILURES_PER_MINUTE <= 10
    assert {"read_csv", "read_text", "glob", "read_parquet"} <= config.DISALLOWED_SQL_FUNCTIONS[
        "duckdb"
    ]
    assert config.PREVENT_UNSAFE_DB_CONNECTIONS is True


def test_chart_cache_keys_name_the_served_build(monkeypatch, tmp_path):
    from access_analytics.superset.cache_keys import ServedBuildSecurityManager

    config = load_config(monkeypatch, tmp_path)
    assert config.CUSTOM_SECURITY_MANAGER is ServedBuildSecurityManager
