"""Paths and environment shared by the Superset commands."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from access_analytics import warehouse
from access_analytics.paths import PROJECT_ROOT

REPO_ROOT = PROJECT_ROOT
DASHBOARDS_DIR = REPO_ROOT / "dashboards"
SUPERSET_CONFIG = REPO_ROOT / "superset_config.py"
EXPOSURES_FILE = REPO_ROOT / "models" / "marts" / "_marts__exposures.yml"
DEFAULT_MANIFEST = REPO_ROOT / "target" / "manifest.json"

ADMIN_USER = "admin"


def var_dir() -> Path:
    """Where local Superset state lives (ignored by git)."""
    return Path(os.environ.get("SUPERSET_VAR_DIR", REPO_ROOT / "var" / "superset"))


def warehouse_uri(path: Path | None = None) -> str:
    """SQLAlchemy URI of the published warehouse, opened read-only.

    `SUPERSET_WAREHOUSE_URI` wins (e.g. a Trino URI in production, where the
    password comes from the environment and never reaches git).
    """
    if path is None and os.environ.get("SUPERSET_WAREHOUSE_URI"):
        return os.environ["SUPERSET_WAREHOUSE_URI"]
    target = (path or warehouse.serving_path()).resolve()
    return f"duckdb:///{target}"


def demo_secret_key(directory: Path | None = None) -> str:
    """A random key, generated once per checkout into an ignored file."""
    folder = directory or var_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_file = folder / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip()


def superset_env(directory: Path | None = None, secret_key: str | None = None) -> dict[str, str]:
    """Environment for `superset` and gunicorn processes of this project."""
    folder = directory or var_dir()
    # Metadata DB, secret key and admin password live here: owner only, also when
    # an older checkout created the folder world-readable.
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    env = dict(os.environ)
    env["SUPERSET_CONFIG_PATH"] = str(SUPERSET_CONFIG)
    env["SUPERSET_VAR_DIR"] = str(folder)
    env["FLASK_APP"] = "superset"
    env["SUPERSET_SECRET_KEY"] = (
        secret_key or os.environ.get("SUPERSET_SECRET_KEY") or demo_secret_key(folder)
    )
    if "SUPERSET_DATABASE_URI" not in os.environ:
        env["SUPERSET_DATABASE_URI"] = f"sqlite:///{folder / 'superset.db'}"
    return env
