"""Publishing: a new marts-only file of plain tables, what to publish read from dbt, atomic swap."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import duckdb
import pytest

from access_analytics.warehouse import (
    PublishError,
    plan_from_manifest,
    publish,
    restricted_path,
)

EXPOSED = ("mart_unlock_daily", "mart_walkaway_daily")
UNEXPOSED = ("fct_unlock_attempts",)


def write_target(folder: Path, exposed: tuple[str, ...] = EXPOSED) -> Path:
    """A dbt target folder: manifest (marts, staging, restricted, one exposure) and run results."""
    folder.mkdir(parents=True, exist_ok=True)

    def model(schema: str, name: str) -> tuple[str, dict]:
        uid = f"model.access_analytics.{name}"
        return uid, {"resource_type": "model", "schema": schema, "name": name, "alias": name}

    nodes = dict(
        [model("marts", n) for n in EXPOSED + UNEXPOSED]
        + [model("staging", "stg_raw__vehicles"), model("restricted", "restricted_ids")]
    )
    manifest = {
        "nodes": nodes,
        "exposures": {
            "exposure.access_analytics.dashboards": {
                "name": "dashboards",
                "depends_on": {"nodes": [f"model.access_analytics.{n}" for n in exposed]},
            }
        },
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    run_results = {
        "metadata": {
            "dbt_version": "1.11.0",
            "generated_at": "2026-01-01T00:10:00Z",
            "invocation_id": "inv-" + folder.name,
            "invocation_started_at": "2026-01-01T00:00:00Z",
        }
    }
    (folder / "run_results.json").write_text(json.dumps(run_results))
    return folder / "manifest.json"


def make_build(path: Path, marker: str, key: str = "demo-pseudonym-key", marts=EXPOSED) -> Path:
    """A build file shaped like dbt's: a staging view whose SQL holds the key, marts, restricted."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema staging; create schema marts; create schema restricted")
        con.execute(
            "create view staging.stg_raw__vehicles as "
            f"select sha256('{key}|' || 'VIN0001') as vehicle_key, 'VIN0001' as vin"
        )
        for name in marts + UNEXPOSED:
            con.execute(f"create table marts.{name} as select '{marker}' as build, 'EU' as region")
        con.execute("create view marts.a_view as select 1 as x")
        con.execute(
            "create table restricted.restricted_ids as select * from staging.stg_raw__vehicles"
        )
    return path


def served_build(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select build from marts.mart_unlock_daily").fetchone()[0]


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return write_target(tmp_path / "target")


def test_the_plan_comes_from_the_manifest(manifest):
    plan = plan_from_manifest(manifest)
    assert plan.required == sorted(EXPOSED)
    assert plan.public == sorted(EXPOSED + UNEXPOSED)
    assert plan.restricted == ["restricted_ids"]


def test_the_serving_file_holds_only_marts_tables_and_build_info(tmp_path, manifest):
    key = "key-" + secrets.token_hex(12)  # distinctive, so a byte search cannot hit by chance
    build = make_build(tmp_path / "build.duckdb", "b1", key=key)
    assert key.encode() in build.read_bytes()  # the build file does carry it (view SQL)
    serving = publish(build, tmp_path / "serving" / "warehouse.duckdb", manifest)
    with duckdb.connect(str(serving), read_only=True) as con:
        assert (
            con.execute("select count(*) from duckdb_views() where not internal").fetchone()[0] == 0
        )
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
        assert schemas & {"staging", "intermediate", "restricted"} == set()
        tables = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() order by 1"
        ).fetchall()
        marts = sorted(f"marts.{n}" for n in EXPOSED + UNEXPOSED)
        assert [t[0] for t in tables] == ["main.build_info", *marts]
        catalog = con.execute(
            "select string_agg(coalesce(sql, ''), ' ') from "
            "(select sql from duckdb_tables() union all select sql from duckdb_views())"
        ).fetchone()[0]
        info = con.execute("select * from build_info").fetchall()
        info_columns = [d[0] for d in con.description]
    assert key not in catalog
    assert key.encode() not in serving.read_bytes()
    assert {"invocation_id", "build_started_at", "build_finished_at", "dbt_version"} <= set(
        info_columns
    )
    assert {"project_commit", "published_at"} <= set(info_columns)
    assert info[0][info_columns.index("invocation_id")] == "inv-target"
    # The identity map lives in its own file, nothing else in it.
    with duckdb.connect(str(restricted_path(serving)), read_only=True) as con:
        tables = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        views = con.execute("select count(*) from duckdb_views() where not internal").fetchone()
    assert tables == [("restricted", "restricted_ids")] and views == (0,)


def test_a_good_build_replaces_the_served_file(tmp_path, manifest):
    serving = tmp_path / "serving" / "warehouse.duckdb"
    publish(make_build(tmp_path / "first.duckdb", "first"), serving, manifest)
    publish(make_build(tmp_path / "second.duckdb", "second"), serving, manifest)
    assert served_build(serving) == "second"
    assert sorted(p.name for p in serving.parent.iterdir()) == [
        "restricted_identities.duckdb",
        "warehouse.duckdb",
    ]


def test_a_build_missing_an_exposed_mart_is_not_published(tmp_path, manifest):
    serving = publish(make_build(tmp_path / "good.duckdb", "good"), tmp_path / "w.duckdb", manifest)
    partial = make_build(tmp_path / "partial.duckdb", "partial", marts=EXPOSED[:1])
    with pytest.raises(PublishError, match="lacks mart_walkaway_daily"):
        publish(partial, serving, manifest)
    assert served_build(serving) == "good"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_an_exposure_on_a_mart_the_manifest_lacks_needs_the_mart(tmp_path):
    manifest = write_target(tmp_path / "target", exposed=(*EXPOSED, "mart_new"))
    plan = plan_from_manifest(manifest)
    # Unknown nodes (e.g. sources) are not relations the build writes.
    assert plan.required == sorted(EXPOSED)


def test_no_manifest_no_publish(tmp_path):
    build = make_build(tmp_path / "b.duckdb", "b")
    with pytest.raises(PublishError, match="cannot read the dbt manifest"):
        publish(build, tmp_path / "w.duckdb", tmp_path / "missing" / "manifest.json")
    assert not (tmp_path / "w.duckdb").exists()


def test_a_corrupt_build_is_not_published(tmp_path, manifest):
    serving = publish(make_build(tmp_path / "good.duckdb", "good"), tmp_path / "w.duckdb", manifest)
    corrupt = tmp_path / "corrupt.duckdb"
    corrupt.write_bytes(os.urandom(4096))
    with pytest.raises(PublishError, match="cannot be read"):
        publish(corrupt, serving, manifest)
    assert served_build(serving) == "good"


def test_readers_keep_reading_while_a_new_build_is_published(tmp_path, manifest):
    serving = publish(make_build(tmp_path / "a.duckdb", "old"), tmp_path / "w.duckdb", manifest)
    with duckdb.connect(str(serving), read_only=True) as reader:
        publish(make_build(tmp_path / "b.duckdb", "new"), serving, manifest)
        # The open connection still sees the warehouse it opened, unharmed.
        assert reader.execute("select build from marts.mart_unlock_daily").fetchone() == ("old",)
    assert served_build(serving) == "new"


def test_the_session_build_publishes_no_key_and_no_private_schema(superset_warehouse):
    """The real project's build: the published file has marts only and no pseudonym key."""
    with duckdb.connect(str(superset_warehouse), read_only=True) as con:
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
        views = con.execute("select count(*) from duckdb_views() where not internal").fetchone()
        marts = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'marts'"
        ).fetchone()[0]
    assert views == (0,)
    assert schemas & {"staging", "intermediate", "restricted"} == set()
    assert marts >= 10
    assert b"demo-pseudonym-key" not in superset_warehouse.read_bytes()
