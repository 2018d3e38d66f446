"""A real Superset for the dashboard and security tests: gunicorn on a free port, a
temporary metadata DB and secret key, the dashboards imported on a small built
warehouse, security/roles.yml applied and one user per role.

Imported by conftest.py so that every test module shares one server per session.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from access_analytics.superset import settings
from access_analytics.superset.client import SupersetClient
from access_analytics.superset.operations import import_dashboards
from access_analytics.superset.security import apply_step, run_in_app, user_step
from access_analytics.superset.server import private_superset
from access_analytics.warehouse import publish

ADMIN = ("admin", "test-" + secrets.token_hex(12))
# One user per kind of role, created once per session.
USERS = {
    "viewer": "Fleet Viewer",
    "viewer_eu": "Fleet Viewer EU",
    "analyst": "Fleet Analyst",
    "engineer": "Access Engineer",
}


@dataclass
class LiveSuperset:
    url: str
    username: str
    password: str
    warehouse: Path
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    user_password: str = ""

    def client(self) -> SupersetClient:
        return SupersetClient(self.url, self.username, self.password)

    def client_as(self, user: str) -> SupersetClient:
        return SupersetClient(self.url, user, self.user_password)

    @property
    def database_uri(self) -> str:
        return settings.warehouse_uri(self.warehouse)


@pytest.fixture(scope="session")
def superset_warehouse(built_warehouse, tmp_path_factory) -> Path:
    """The session's build, published (marts only, plain tables) as Superset reads it."""
    serving = tmp_path_factory.mktemp("superset_serving") / "warehouse.duckdb"
    return publish(built_warehouse.path, serving, built_warehouse.manifest)


@pytest.fixture(scope="session")
def superset_live(superset_warehouse: Path, tmp_path_factory) -> Iterator[LiveSuperset]:
    workdir = tmp_path_factory.mktemp("superset")
    with private_superset(workdir, ADMIN[1]) as server:
        live = LiveSuperset(
            server.url, *ADMIN, superset_warehouse, workdir, server.env, secrets.token_urlsafe(16)
        )
        import_dashboards(live.client(), settings.DASHBOARDS_DIR, live.database_uri)
        steps = [apply_step(superset_warehouse)]
        steps += [user_step(user, live.user_password, role) for user, role in USERS.items()]
        run_in_app(server.env, steps)
        yield live
