"""Superset configuration for every environment of Access Analytics.

Superset loads this file when SUPERSET_CONFIG_PATH points at it (the CLI and
`make serve` set that). Everything secret or environment specific comes from
environment variables; the defaults are safe for a laptop demo.

- SUPERSET_SECRET_KEY: signs sessions and encrypts credentials; required,
  Superset refuses to start without it.
- SUPERSET_DATABASE_URI: Superset's metadata DB (default: SQLite under var/).
- SUPERSET_CACHE_REDIS_URL: shared caches for several web nodes (default: files
  under var/).
- SUPERSET_HTTPS: true behind a TLS reverse proxy (Secure cookies, HTTPS
  redirect, and ProxyFix so Superset trusts the proxy's X-Forwarded-* headers).
- SUPERSET_RATELIMIT_STORAGE_URI: where login-failure counters live, shared by
  every gunicorn worker (`serve` starts a private redis-server under var/).
- SUPERSET_LOGIN_FAILURES_PER_MINUTE (5): failed logins per client and account
  before HTTP 429.
- SUPERSET_ROW_LIMIT (10000), SUPERSET_QUERY_TIMEOUT_S (60): query guards.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from access_analytics.superset.cache_keys import ServedBuildSecurityManager

REPO_ROOT = Path(__file__).resolve().parent
# Local state (metadata DB, caches) lives in the ignored var/ folder so a fresh
# clone never carries someone else's Superset state.
VAR_DIR = Path(os.environ.get("SUPERSET_VAR_DIR", REPO_ROOT / "var" / "superset"))
# Holds the metadata DB (password hashes) and the secret key: owner only.
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# --- Secrets -----------------------------------------------------------------
# Only from the environment. When it is missing we leave Superset's built-in
# placeholder in place on purpose: Superset refuses to start with it, so a
# deployment can never run with a guessable key. The local demo generates a
# random key once into var/ (ignored by git).
if os.environ.get("SUPERSET_SECRET_KEY"):
    SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]

# --- Metadata database ---------------------------------------------------------
# Dashboards, charts and users. SQLite is enough for one local user; production
# passes any SQLAlchemy URI (e.g. PostgreSQL) through the environment.
SQLALCHEMY_DATABASE_URI = os.environ.get(
    "SUPERSET_DATABASE_URI", f"sqlite:///{VAR_DIR / 'superset.db'}"
)

# --- Caches ----------------------------------------------------------------------
# Chart results are cached so that a dashboard opened by many people does not run
# its queries for each of them. Every cache key names the build the served DuckDB
# file holds (its build_info, read through the chart's own connection, and the
# file's identity): the first chart request after a publish misses the cache and
# reads the new file, whichever process published it, with files or Redis and any
# number of workers; nothing has to be cleared. See
# src/access_analytics/superset/cache_keys.py. Results expire after one hour
# anyway. Redis when several web nodes share work, otherwise files under var/
# (survive restarts, need no service).
CUSTOM_SECURITY_MANAGER = ServedBuildSecurityManager
_REDIS_URL = os.environ.get("SUPERSET_CACHE_REDIS_URL")


def _cache(prefix: str, timeout: timedelta) -> dict[str, object]:
    common: dict[str, object] = {
        "CACHE_DEFAULT_TIMEOUT": int(timeout.total_seconds()),
        "CACHE_KEY_PREFIX": f"access_analytics_{prefix}_",
    }
    if _REDIS_URL:
        return {**common, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": _REDIS_URL}
    return {
        **common,
        "CACHE_TYPE": "FileSystemCache",
        "CACHE_DIR": str(VAR_DIR / "cache" / prefix),
        # Bounded so a long-running demo cannot fill the disk.
        "CACHE_THRESHOLD": 5000,
    }


CACHE_CONFIG = _cache("metadata", timedelta(hours=1))
DATA_CACHE_CONFIG = _cache("data", timedelta(hours=1))
# Native-filter and explore state must outlive a browser session (shared links
# keep working), hence the longer lifetimes.
FILTER_STATE_CACHE_CONFIG = {
    **_cache("filter_state", timedelta(days=90)),
    "REFRESH_TIMEOUT_ON_RETRIEVAL": True,
}
EXPLORE_FORM_DATA_CACHE_CONFIG = {
    **_cache("explore_form_data", timedelta(days=7)),
    "REFRESH_TIMEOUT_ON_RETRIEVAL": True,
}

# --- Web security ----------------------------------------------------------------
# CSRF protection for every form and state-changing API call.
WTF_CSRF_ENABLED = True
# Talisman sets the Content-Security-Policy and other security headers. The
# policy only allows the app's own origin: these dashboards need no map tiles
# or external fonts.
TALISMAN_ENABLED = True
_HTTPS = _env_bool("SUPERSET_HTTPS", False)
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": _HTTPS,
    "session_cookie_secure": _HTTPS,
}
SESSION_COOKIE_SECURE = _HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Behind a TLS reverse proxy the client address and scheme come from its
# X-Forwarded-* headers (rate limits per client, Secure cookies). Never enable
# it without such a proxy: clients could then forge their address.
ENABLE_PROXY_FIX = _HTTPS

# Nobody sees anything without logging in: the Public role gets no permissions.
PUBLIC_ROLE_LIKE = None
AUTH_ROLE_PUBLIC = "Public"

# --- Login rate limit ------------------------------------------------------------
# Failed logins on /login/ and /api/v1/security/login are counted per client
# address and account name; past the limit both answer HTTP 429 for the rest of
# the minute. Only failures count, so people sharing an address who log in
# correctly are never locked out. The counters must be shared by all gunicorn
# workers: `serve` starts a private redis-server and passes its socket here;
# "memory://" is only correct with a single worker.
RATELIMIT_ENABLED = True
RATELIMIT_STORAGE_URI = (
    os.environ.get("SUPERSET_RATELIMIT_STORAGE_URI") or _REDIS_URL or "memory://"
)
RATELIMIT_APPLICATION = None  # no global limit: a dashboard fires one request per chart
AUTH_RATE_LIMITED = False  # Flask-AppBuilder's limit counts successes too; replaced below
LOGIN_FAILURES_PER_MINUTE = int(os.environ.get("SUPERSET_LOGIN_FAILURES_PER_MINUTE", "5"))
_LOGIN_BLUEPRINTS = ("AuthDBView", "SecurityApi")


def _login_account() -> str:
    from flask import request

    body = request.get_json(silent=True) if request.is_json else None
    username = (body or {}).get("username") if isinstance(body, dict) else None
    return str(username or request.form.get("username") or "")[:150].lower()


def _login_key() -> str:
    from flask_limiter.util import get_remote_address

    return f"{get_remote_address()}|{_login_account()}"


def _login_failed(response) -> bool:  # type: ignore[no-untyped-def]
    # The API answers 200 with a token; the form redirects away from /login/.
    if response.status_code in (301, 302, 303):
        return "/login" in (response.location or "")
    return response.status_code != 200


def FLASK_APP_MUTATOR(app) -> None:  # type: ignore[no-untyped-def]
    limiter = app.appbuilder.sm.limiter
    for name in _LOGIN_BLUEPRINTS:
        limiter.limit(
            f"{LOGIN_FAILURES_PER_MINUTE} per minute",
            key_func=_login_key,
            methods=["POST"],
            deduct_when=_login_failed,
            scope="login",
        )(app.blueprints[name])


# Connections to local files (SQLite) stay forbidden for users; the warehouse is
# registered by the project's import, not typed in by hand.
PREVENT_UNSAFE_DB_CONNECTIONS = True

# Defence in depth for SQL Lab and virtual datasets on DuckDB. The connection
# itself is locked down (no file or network access, no extensions, settings
# locked: see dashboards/databases/); Superset also refuses queries naming
# these functions before they reach DuckDB.
DISALLOWED_SQL_FUNCTIONS = {
    "duckdb": {
        "read_csv",
        "read_csv_auto",
        "read_json",
        "read_json_auto",
        "read_json_objects",
        "read_ndjson",
        "read_parquet",
        "parquet_scan",
        "parquet_metadata",
        "parquet_schema",
        "read_text",
        "read_blob",
        "glob",
        "sqlite_scan",
        "sqlite_attach",
        "postgres_scan",
        "mysql_scan",
        "iceberg_scan",
        "delta_scan",
        "getenv",
        "current_setting",
        "duckdb_settings",
        "duckdb_extensions",
    },
}

# --- Limits ------------------------------------------------------------------------
# Marts are daily aggregates: no legitimate chart needs more rows than this, and
# the cap protects the browser and the web workers from runaway queries.
ROW_LIMIT = int(os.environ.get("SUPERSET_ROW_LIMIT", "10000"))
SQL_MAX_ROW = ROW_LIMIT
SAMPLES_ROW_LIMIT = 1000
DEFAULT_SQLLAB_LIMIT = 1000
# A chart query over a mart takes milliseconds; anything near a minute is a bug
# or a runaway ad-hoc query and should fail instead of holding a worker.
_TIMEOUT_S = int(os.environ.get("SUPERSET_QUERY_TIMEOUT_S", "60"))
SUPERSET_WEBSERVER_TIMEOUT = _TIMEOUT_S
SQLLAB_TIMEOUT = _TIMEOUT_S
SQLLAB_ASYNC_TIME_LIMIT_SEC = _TIMEOUT_S

# --- Features ----------------------------------------------------------------------
# Dashboards are managed as code; the examples would only add noise.
SUPERSET_LOAD_EXAMPLES = False
FEATURE_FLAGS = {
    # Filters are defined in dashboards/*.yaml; cross filters would let a click
    # aggregate percentiles across slices, which the metric definitions forbid.
    "DASHBOARD_CROSS_FILTERS": False,
    "ALERT_REPORTS": False,
}
