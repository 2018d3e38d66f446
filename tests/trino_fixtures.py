"""A private local Trino for the whole test session (marker `trino`).

The server gets its own runtime directory and a free port, so it never touches a developer's
`var/trino/` server; ACCESS_TRINO_PORT is set for the session so dbt's `trino` target and any
subprocess reach it. A download or startup failure fails the tests: it is never a skip.

`trino_build` builds the whole dbt project once on that server, over the same generated lake
that `built_warehouse` (conftest.py) builds on DuckDB, so the two can be compared. The timings
are printed at the end of the run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from access_analytics.dbt_runner import run_dbt
from access_analytics.trino import lake, server

# Seconds measured during the session, shown in the terminal summary.
TIMINGS: dict[str, float] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "trino: needs the local Trino server (slow, ~1 GB RAM)")


def pytest_terminal_summary(terminalreporter) -> None:
    if not TIMINGS:
        return
    labels = {
        "trino_startup_s": "Trino startup",
        "trino_register_s": "raw lake registration on Trino",
        "trino_build_s": "dbt build on Trino",
        "trino_rebuild_s": "second dbt run of the incremental models on Trino (no new data)",
    }
    terminalreporter.section("Trino timings")
    for key, label in labels.items():
        if key in TIMINGS:
            terminalreporter.write_line(f"{label:<42} {TIMINGS[key]:7.1f} s")


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
        result = server.start(settings)
        TIMINGS["trino_startup_s"] = result.startup_s
        yield settings
    finally:
        server.stop(settings)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# The built lake gets its own raw schema: other tests register other lakes as hive.raw.
BUILD_RAW_SCHEMA = "raw_build"


@dataclass(frozen=True)
class TrinoBuild:
    settings: server.TrinoSettings
    lake: Path
    target_path: Path

    def env(self) -> dict[str, str]:
        return {
            "ACCESS_TRINO_HOST": self.settings.host,
            "ACCESS_TRINO_PORT": str(self.settings.port),
            "ACCESS_TRINO_RAW_SCHEMA": BUILD_RAW_SCHEMA,
        }


@pytest.fixture(scope="session")
def trino_build(
    trino_server: server.TrinoSettings,
    built_warehouse,
    tmp_path_factory: pytest.TempPathFactory,
) -> TrinoBuild:
    """`dbt build` (models, seeds, snapshots, tests) of the whole project on Trino, over the
    lake of `built_warehouse`."""
    parity_lake = built_warehouse.lake
    started = time.monotonic()
    lake.register_lake(parity_lake, trino_server, schema=BUILD_RAW_SCHEMA)
    TIMINGS["trino_register_s"] = time.monotonic() - started
    build = TrinoBuild(trino_server, parity_lake, tmp_path_factory.mktemp("trino_target"))
    started = time.monotonic()
    run_dbt(
        ["build"], lake=parity_lake, target="trino", env=build.env(), target_path=build.target_path
    )
    TIMINGS["trino_build_s"] = time.monotonic() - started
    return build
