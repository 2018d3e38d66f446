"""The build -> publish handshake on real dbt builds: only a passing build becomes the last
good build, and only the last good build is published."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from access_analytics.build import BuildError, build, building_path, failed_path, node_layers
from access_analytics.dbt_runner import run_dbt
from access_analytics.warehouse import PublishError, check_build, publish


def newest_invocation(path: Path) -> tuple[str, str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select invocation_id, status from build_meta.dbt_invocations"
            " order by started_at desc limit 1"
        ).fetchone()


def rename_a_column(lake: Path) -> Path:
    """The first access_events file loses its contract column rssi_dbm (renamed)."""
    damaged = sorted((lake / "raw" / "access_events").glob("*/*.parquet"))[0]
    table = pq.read_table(damaged)
    names = ["rssi" if name == "rssi_dbm" else name for name in table.column_names]
    pq.write_table(table.rename_columns(names), damaged)
    return damaged


@pytest.fixture
def last_good_build(built_warehouse, tmp_path) -> Path:
    """A copy of the session's passing build, as a deployment's last good build."""
    good = tmp_path / "data" / "warehouse.duckdb"
    good.parent.mkdir()
    shutil.copyfile(built_warehouse.path, good)
    return good


def test_a_passing_build_replaces_the_last_good_build_and_is_published(
    built_warehouse, last_good_build, tmp_path
):
    before, _ = newest_invocation(last_good_build)
    said: list[str] = []
    record = build(
        built_warehouse.lake,
        last_good_build,
        stream=False,
        target_path=tmp_path / "target",
        say=said.append,
    )
    assert said == [f"Building into a copy of the last good build {last_good_build}"]
    assert newest_invocation(last_good_build) == (record.invocation_id, "success")
    assert record.invocation_id != before and record.selection == "" and not record.failed_nodes
    assert not (last_good_build.parent / ".building" / last_good_build.name).exists()

    serving = publish(
        last_good_build,
        tmp_path / "serving" / "warehouse.duckdb",
        tmp_path / "target" / "manifest.json",
    )
    lake_events = str(built_warehouse.lake / "raw" / "access_events" / "*" / "*.parquet")
    with duckdb.connect(str(serving), read_only=True) as con:
        info = {
            row[0]: row[1:]
            for row in con.execute(
                "select table_name, invocation_id, newest_ingest_date, rows_read, rows_kept"
                " from build_info"
            ).fetchall()
        }
        lake_rows = con.execute(f"select count(*) from read_parquet('{lake_events}')").fetchone()
    assert sorted(info) == [
        "access_events",
        "firmware_releases",
        "fob_battery_readings",
        "keys",
        "vehicles",
    ]
    assert {row[0] for row in info.values()} == {record.invocation_id}
    assert info["access_events"][2] == lake_rows[0]
    with duckdb.connect(str(last_good_build), read_only=True) as con:
        kept = con.execute("select count(*) from staging.stg_raw__access_events").fetchone()[0]
        newest = con.execute("select max(ingest_date) from staging.base_raw__access_events")
        assert info["access_events"][1:] == (newest.fetchone()[0], lake_rows[0], kept)


def test_a_failed_build_leaves_the_last_good_build_and_is_never_published(
    built_warehouse, last_good_build, tmp_path
):
    lake = tmp_path / "lake"
    shutil.copytree(built_warehouse.lake, lake)
    rename_a_column(lake)
    good_before = newest_invocation(last_good_build)
    manifest = built_warehouse.manifest
    serving = publish(last_good_build, tmp_path / "serving" / "warehouse.duckdb", manifest)

    with pytest.raises(BuildError) as failure:
        build(lake, last_good_build, stream=False, target_path=tmp_path / "target", say=print)
    failed = failed_path(last_good_build)
    message = str(failure.value)
    assert message.startswith(
        f"build failed: {building_path(last_good_build)}: its last dbt build ("
    )
    assert "failed: model.access_analytics.base_raw__access_events (error); " in message
    assert message.endswith(
        f"the last good build {last_good_build} is unchanged; the failed one is {failed}"
    )
    assert newest_invocation(last_good_build) == good_before
    with pytest.raises(
        PublishError,
        match=r"failed: model\.access_analytics\.base_raw__access_events \(error\); \d+ node",
    ):
        publish(failed, serving, manifest)

    # Running dbt by hand into the good file records the failure in that file: refused too.
    run_dbt(
        ["build"],
        lake=lake,
        warehouse=last_good_build,
        check=False,
        target_path=tmp_path / "target",
    )
    with pytest.raises(PublishError, match="base_raw__access_events"):
        check_build(last_good_build)
    with pytest.raises(PublishError):
        publish(last_good_build, serving, manifest)
    with duckdb.connect(str(serving), read_only=True) as con:
        served = con.execute("select distinct invocation_id from build_info").fetchall()
    assert served == [(good_before[0],)]


def test_build_record_places_every_node_of_the_build_in_a_layer(built_warehouse, monkeypatch):
    """`access-analytics build-record --json`: what the daily DAG's layer tasks read."""
    from typer.testing import CliRunner

    from access_analytics.build import LAYERS
    from access_analytics.cli import app

    monkeypatch.setenv("ACCESS_WAREHOUSE_PATH", str(built_warehouse.path))
    arguments = ["build-record", "--manifest", str(built_warehouse.manifest)]
    result = CliRunner().invoke(app, [*arguments, "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["status"] == "success" and record["refusal"] is None
    layers = {node["layer"] for node in record["nodes"]}
    assert {"macros", "seeds", "staging", "intermediate", "marts", "restricted"} == layers
    assert layers <= set(LAYERS)
    staging = [n["unique_id"] for n in record["nodes"] if n["layer"] == "staging"]
    assert "model.access_analytics.stg_raw__access_events" in staging
    assert any(uid.startswith("test.") for uid in staging)  # tests sit with their models
    result = CliRunner().invoke(app, [*arguments, "--layer", "staging"])
    assert result.exit_code == 0 and "0 not passed" in result.output, result.output
    result = CliRunner().invoke(app, [*arguments, "--layer", "nowhere"])
    assert result.exit_code == 2


def test_each_node_is_placed_in_the_layer_a_failure_points_at(tmp_path):
    """Models and seeds by folder; a test in the latest layer it tests; a test of the raw
    lake alone in staging (where the sources are declared); a test on literals in macros."""
    manifest = {
        "nodes": {
            "seed.p.firmware": {"resource_type": "seed", "fqn": ["p", "firmware"]},
            "model.p.stg": {"resource_type": "model", "fqn": ["p", "staging", "stg"]},
            "model.p.int": {"resource_type": "model", "fqn": ["p", "intermediate", "int"]},
            "model.p.top": {"resource_type": "model", "fqn": ["p", "top"]},
            "test.p.on_both": {"depends_on": {"nodes": ["model.p.stg", "model.p.int"]}},
            "test.p.on_seed": {"depends_on": {"nodes": ["seed.p.firmware"]}},
            "test.p.on_source": {"depends_on": {"nodes": ["source.p.raw.access_events"]}},
            "test.p.on_literals": {"depends_on": {"nodes": []}},
        },
        "unit_tests": {"unit_test.p.int.rule": {"depends_on": {"nodes": ["model.p.int"]}}},
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    assert node_layers(path) == {
        "seed.p.firmware": "seeds",
        "model.p.stg": "staging",
        "model.p.int": "intermediate",
        "model.p.top": "marts",
        "test.p.on_both": "intermediate",
        "test.p.on_seed": "seeds",
        "test.p.on_source": "staging",
        "test.p.on_literals": "macros",
        "unit_test.p.int.rule": "intermediate",
    }
