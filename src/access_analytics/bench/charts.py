"""Chart query timings of the bench: every dashboard chart, on the bench's own warehouse.

The built warehouse is published as `make demo` publishes it (marts only, plain tables)
into the bench's folder, and a private Superset (its own metadata DB, secret key, admin
password and free port, all under that folder) imports the dashboards on it. Each
chart's `/api/v1/chart/data` call, with the dashboard's default filters, is then timed
with Superset's cache bypassed, as `access-analytics dashboards benchmark` does against
a running Superset. The server is stopped before this returns, also on failure.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

ROUNDS = 5  # calls per chart


def chart_timings(
    build: Path, manifest: Path, workdir: Path, rounds: int = ROUNDS
) -> dict[str, Any]:
    """p50 / p95 (ms) over `rounds` calls of every chart, and the slowest charts."""
    from access_analytics.superset import settings
    from access_analytics.superset.client import SupersetClient
    from access_analytics.superset.operations import benchmark, import_dashboards
    from access_analytics.superset.security import ADMIN_USER, set_admin_password
    from access_analytics.superset.server import SupersetServer, free_port, init_metadata
    from access_analytics.warehouse import publish

    shutil.rmtree(workdir, ignore_errors=True)
    serving = publish(build, workdir / "serving" / "warehouse.duckdb", manifest)
    home = workdir / "superset"
    env = settings.superset_env(home, secret_key=secrets.token_urlsafe(48))
    env["SUPERSET_DATABASE_URI"] = f"sqlite:///{home / 'superset.db'}"
    password = secrets.token_urlsafe(16)
    init_metadata(env)
    set_admin_password(env, password)
    server = SupersetServer(
        env=env, port=free_port(), log_path=home / "superset.log", say=lambda _: None
    )
    server.start()
    try:
        client = SupersetClient(server.url, ADMIN_USER, password)
        bundle = import_dashboards(client, settings.DASHBOARDS_DIR, settings.warehouse_uri(serving))
        timings = benchmark(client, bundle, rounds)
    finally:
        server.stop()
    return {
        **timings,
        "rounds": rounds,
        "serving_mb": round(serving.stat().st_size / 2**20, 1),
    }
