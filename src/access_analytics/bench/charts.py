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
    from access_analytics.superset.security import ADMIN_USER
    from access_analytics.superset.server import private_superset
    from access_analytics.warehouse import publish

    shutil.rmtree(workdir, ignore_errors=True)
    serving = publish(build, workdir / "serving" / "warehouse.duckdb", manifest)
    password = secrets.token_urlsafe(16)
    with private_superset(workdir / "superset", password, say=lambda _: None) as server:
        client = SupersetClient(server.url, ADMIN_USER, password)
        bundle = import_dashboards(client, settings.DASHBOARDS_DIR, settings.warehouse_uri(serving))
        timings = benchmark(client, bundle, rounds)
    return {
        **timings,
        "rounds": rounds,
        "serving_mb": round(serving.stat().st_size / 2**20, 1),
    }
