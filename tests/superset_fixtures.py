"""A real Superset for the dashboard tests: gunicorn on a free port, a temporary
metadata DB and secret key, the dashboards imported on a small built warehouse.

Imported by conftest.py so that every test module shares one server per session.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from access_analytics.superset import settings
from access_analytics.superset.client import SupersetClient
from access_analytics.superset.server import SupersetServer, free_port, init_metadata
from access_analytics.warehouse import publish

ADMIN = ("admin", "test-" + secrets.token_hex(8))


@dataclass
class LiveSuperset:
    url: str
    username: str
    password: str
    warehouse: Path
    workdir: Path

    def client(self) -> SupersetClient:
        return SupersetClient(self.url, self.username, self.password)

    @property
    def database_uri(self) -> str:
        return settings.warehouse_uri(self.warehouse)


@pytest.fixture(scope="session")
def superset_warehouse(built_warehouse, tmp_path_factory) -> Path:
    """The session's built warehouse, published by the atomic swap Superset relies on."""
    serving = tmp_path_factory.mktemp("superset_serving") / "warehouse.duckdb"
    return publish(built_warehouse.path, serving, built_warehouse.manifest)


@pytest.fixture(scope="session")
def superset_live(superset_warehouse: Path, tmp_path_factory) -> Iterator[LiveSuperset]:
    workdir = tmp_path_factory.mktemp("superset")
    env = settings.superset_env(workdir, secret_key=secrets.token_urlsafe(48))
    # A temporary metadata DB, never the developer's var/superset.
    env["SUPERSET_DATABASE_URI"] = f"sqlite:///{workdir / 'superset.db'}"
    init_metadata(env, *ADMIN)
    server = SupersetServer(env=env, port=free_port(), log_path=workdir / "superset.log")
    server.start()
    try:
        yield LiveSuperset(server.url, *ADMIN, superset_warehouse, workdir)
    finally:
        server.stop()
