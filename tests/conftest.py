"""Shared pytest setup.

`built_warehouse` generates one small lake and runs one full `dbt build` (models,
seeds and every data and unit test) per test session: the dbt tests pass or the
session fails, and every later test reads the same warehouse.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from access_analytics.dbt_runner import run_dbt
from access_analytics.generator import generate_lake

# Small but covering every rule: every outcome, fault and quarantine reason occurs,
# and long enough for the planted firmware regression to be compared with its predecessor.
TEST_FLEET = {"vehicles": 60, "days": 45, "start_date": "2026-01-05", "seed": 7}


@dataclass(frozen=True)
class BuiltWarehouse:
    lake: Path
    path: Path
    target_path: Path

    @property
    def manifest(self) -> Path:
        return self.target_path / "manifest.json"


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    root = tmp_path_factory.mktemp("built")
    built = BuiltWarehouse(root / "lake", root / "warehouse.duckdb", root / "target")
    generate_lake(built.lake, **TEST_FLEET)
    run_dbt(["build"], lake=built.lake, warehouse=built.path, target_path=built.target_path)
    return built


# A private local Trino for the scale-out tests (marker `trino`, one per session),
# and a real Superset shared by the dashboard and browser tests (one per session).
pytest_plugins = ["trino_fixtures", "superset_fixtures"]
