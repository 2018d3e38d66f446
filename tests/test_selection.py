"""Any node selection builds and tests cleanly: every test reads what it tests
through ref() or source(), so it runs with its own layer and never before a
relation it reads exists.

On a fresh warehouse, the layers are built one selection at a time, in order;
then, on another fresh warehouse, one mart with everything upstream of it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from access_analytics.dbt_runner import run_dbt
from access_analytics.generator import generate_lake

# no-op: nodes with nothing to run, such as the exposures of the dashboards.
OK = {"success", "pass", "no-op"}
SMALL_FLEET = {"vehicles": 12, "days": 4, "start_date": "2026-01-05", "seed": 3}


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    lake = tmp_path_factory.mktemp("selection") / "lake"
    generate_lake(lake, **SMALL_FLEET)
    return lake


def build(args: list[str], lake: Path, warehouse: Path, target: Path) -> dict[str, str]:
    """Run dbt (failing the test on any error) and return each node's status."""
    completed = run_dbt(args, lake=lake, warehouse=warehouse, target_path=target)
    # Output to a pipe and the log file carry no ANSI colour codes.
    assert "\x1b[" not in completed.stdout
    assert "\x1b[" not in (target / "dbt.log").read_text()
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {result["unique_id"]: result["status"] for result in results}


def test_each_layer_builds_and_tests_on_its_own(lake, tmp_path):
    warehouse = tmp_path / "layers.duckdb"
    seeded = build(["seed"], lake, warehouse, tmp_path / "seed")
    assert set(seeded.values()) == {"success"}
    for layer in ("staging", "intermediate", "marts restricted"):
        statuses = build(["build", "--select", *layer.split()], lake, warehouse, tmp_path / "t")
        kinds = {unique_id.split(".")[0] for unique_id in statuses}
        assert {"model", "test"} <= kinds, (layer, kinds)
        failed = {node: status for node, status in statuses.items() if status not in OK}
        assert not failed, (layer, failed)


def test_one_mart_builds_with_everything_upstream_of_it(lake, tmp_path):
    statuses = build(
        ["build", "--select", "+mart_unlock_daily"], lake, tmp_path / "one.duckdb", tmp_path / "t"
    )
    assert "model.access_analytics.mart_unlock_daily" in statuses
    assert "model.access_analytics.mart_walkaway_daily" not in statuses
    failed = {node: status for node, status in statuses.items() if status not in OK}
    assert not failed, failed
