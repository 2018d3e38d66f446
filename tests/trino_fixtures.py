"""A private local Trino for the whole test session (marker `trino`).

The server gets its own runtime directory and a free port, so it never touches a developer's
`var/trino/` server; ACCESS_TRINO_PORT is set for the session so dbt's `trino` target and any
subprocess reach it. A download or startup failure fails the tests: it is never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from access_analytics.trino import server


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "trino: needs the local Trino server (slow, ~1 GB RAM)")


@pytest.fixture(scope="session")
def trino_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.TrinoSettings]:
    """Start Trino once per session; stop it at the end."""
    settings = server.TrinoSettings(
        port=server.find_free_port(), var_dir=tmp_path_factory.mktemp("trino")
    )
    saved = {name: os.environ.get(name) for name in ("ACCESS_TRINO_HOST", "ACCESS_TRINO_PORT")}
    os.environ["ACCESS_TRINO_HOST"] = settings.host
    os.environ["ACCESS_TRINO_PORT"] = str(settings.port)
    try:
        server.start(settings)
        yield settings
    finally:
        server.stop(settings)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
