"""Superset configuration for every environment of Access Analytics.

Superset loads this file when SUPERSET_CONFIG_PATH points at it (the CLI and
`make serve` set that). Everything secret or environment specific comes from
environment variables; the defaults are safe for a laptop demo.

- SUPERSET_SECRET_KEY: signs sessions and encrypts credentials; required,
  Superset refuses to start without it.
- SUPERSET_DATABASE_URI: Superset's metadata DB (default: SQLite under var/).
- SUPERSET_CACHE_REDIS_URL: shared caches for several web nodes (default: files
  under var/).
- SUPERSET_HTTPS: true behind TLS (secure cookies, HTTPS redirect).
- SUPERSET_ROW_LIMIT (10000), SUPERSET_QUERY_TIMEOUT_S (60): query guards.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent
# Local state (metadata DB, caches) lives in the ignored var/ folder so a fresh
# clone never carries someone else's Superset state.
VAR_DIR = Path(os.environ.get("SUPERSET_VAR_DIR", REPO_ROOT / "var" / "superset"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


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
# Chart results are cached so that a dashboard opened by many people queries the
# warehouse once per refresh; the warehouse is rebuilt at most a few times a day,
# so one hour keeps numbers fresh enough. Redis when several web nodes share work,
# otherwise files under var/ (survive restarts, need no service).
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

# Nobody sees anything without logging in: the Public role gets no permissions.
PUBLIC_ROLE_LIKE = None
AUTH_ROLE_PUBLIC = "Public"

# Login attempts are rate limited; in-memory storage suits one web process, a
# multi-node deployment points this at Redis.
RATELIMIT_ENABLED = True
RATELIMIT_STORAGE_URI = _REDIS_URL or "memory://"

# Connections to local files (SQLite) stay forbidden for users; the warehouse is
# registered by the project's import, not typed in by hand.
PREVENT_UNSAFE_DB_CONNECTIONS = True

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
