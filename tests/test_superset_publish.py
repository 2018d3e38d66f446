"""Publishing: a new marts-only file of plain tables, what to publish read from dbt, atomic swap;
Superset's cached chart results follow the swap."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from access_analytics.superset import settings
from access_analytics.superset.assets import load_bundle
from access_analytics.superset.cache_keys import served_build_key
from access_analytics.superset.cli import dashboards_app
from access_analytics.superset.operations import chart_queries
from access_analytics.warehouse import (
    PublishError,
    check_serving,
    plan_from_manifest,
    publish,
    restricted_path,
)

EXPOSED = ("mart_unlock_daily", "mart_walkaway_daily")
UNEXPOSED = ("fct_unlock_attempts",)


def write_target(folder: Path, exposed: tuple[str, ...] = EXPOSED) -> Path:
    """A dbt target folder: manifest (marts, staging, restricted, one exposure)."""
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
    return folder / "manifest.json"


def write_build_record(
    con: duckdb.DuckDBPyConnection,
    invocation_id: str = "inv-1",
    *,
    command: str = "build",
    selection: str = "",
    status: str = "success",
    node_statuses: dict[str, str] | None = None,
) -> None:
    """The build_meta tables as dbt's on-run hooks write them, for one invocation."""
    con.execute("create schema if not exists build_meta")
    con.execute(
        "create table if not exists build_meta.dbt_invocations (invocation_id varchar,"
        " command varchar, selection varchar, full_refresh boolean, started_at varchar,"
        " finished_at varchar, status varchar, nodes_run integer, nodes_failed integer,"
        " dbt_version varchar, project_commit varchar)"
    )
    con.execute(
        "create table if not exists build_meta.dbt_node_results (invocation_id varchar,"
        " unique_id varchar, resource_type varchar, status varchar, failures integer,"
        " message varchar)"
    )
    con.execute(
        "create table if not exists build_meta.dbt_raw_tables (invocation_id varchar,"
        " table_name varchar, newest_ingest_date date, rows_read bigint, rows_kept bigint)"
    )
    started = con.execute("select count(*) from build_meta.dbt_invocations").fetchone()[0]
    nodes = node_statuses or {"model.access_analytics.mart_unlock_daily": "success"}
    con.execute(
        "insert into build_meta.dbt_invocations values (?, ?, ?, false, ?, ?, ?, ?, 0,"
        " '1.11.0', 'abc123')",
        [
            invocation_id,
            command,
            selection,
            f"2026-01-01T00:{started:02d}:00+00:00",
            None if status == "running" else "2026-01-01T00:59:00+00:00",
            status,
            len(nodes),
        ],
    )
    for unique_id, node_status in nodes.items():
        con.execute(
            "insert into build_meta.dbt_node_results values (?, ?, 'model', ?, null, '')",
            [invocation_id, unique_id, node_status],
        )
    con.execute(
        "insert into build_meta.dbt_raw_tables values"
        " (?, 'access_events', date '2026-01-31', 1000, 990),"
        " (?, 'vehicles', date '2026-01-30', 10, 10)",
        [invocation_id, invocation_id],
    )


def make_build(path: Path, marker: str, key: str = "demo-pseudonym-key", marts=EXPOSED) -> Path:
    """A build file shaped like dbt's: a staging view whose SQL holds the key, marts, restricted,
    and the record of a passing `dbt build`."""
    with duckdb.connect(str(path)) as con:
        write_build_record(con, "inv-" + marker)
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


def test_the_serving_file_holds_only_marts_tables_build_info_and_its_view(tmp_path, manifest):
    key = "key-" + secrets.token_hex(12)  # distinctive, so a byte search cannot hit by chance
    build = make_build(tmp_path / "build.duckdb", "b1", key=key)
    assert key.encode() in build.read_bytes()  # the build file does carry it (view SQL)
    serving = publish(build, tmp_path / "serving" / "warehouse.duckdb", manifest)
    with duckdb.connect(str(serving), read_only=True) as con:
        # The one view is the freshness strip's, over build_info: no model's SQL is served.
        views = con.execute(
            "select schema_name || '.' || view_name from duckdb_views() where not internal"
        ).fetchall()
        assert views == [("main.build_freshness",)]
        (freshness,) = con.execute("select freshness, test_result from build_freshness").fetchall()
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
        assert schemas & {"staging", "intermediate", "restricted"} == set()
        tables = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() order by 1"
        ).fetchall()
        schemas_served = {t[0].split(".")[0] for t in tables}
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
    assert {"project_commit", "published_at", "table_name", "newest_ingest_date"} <= set(
        info_columns
    )
    assert {"rows_read", "rows_kept"} <= set(info_columns)
    rows = [dict(zip(info_columns, row, strict=True)) for row in info]
    assert [(r["table_name"], r["rows_read"], r["rows_kept"]) for r in rows] == [
        ("access_events", 1000, 990),
        ("vehicles", 10, 10),
    ]
    assert {r["invocation_id"] for r in rows} == {"inv-b1"}
    assert {r["project_commit"] for r in rows} == {"abc123"}
    assert freshness[0].startswith(("Fresh: newest row", "STALE: "))
    assert freshness[1].startswith("All ")
    assert "build_meta" not in schemas_served
    # The identity map lives in its own file, nothing else in it.
    with duckdb.connect(str(restricted_path(serving)), read_only=True) as con:
        tables = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        views = con.execute("select count(*) from duckdb_views() where not internal").fetchone()
    assert tables == [("restricted", "restricted_ids")] and views == (0,)


def test_a_serving_file_without_the_freshness_view_is_not_served(tmp_path, manifest):
    """A file published by a version without the view fails the check, in one line."""
    serving = publish(make_build(tmp_path / "b.duckdb", "b"), tmp_path / "w.duckdb", manifest)
    with duckdb.connect(str(serving)) as con:
        con.execute("drop view main.build_freshness")
    with pytest.raises(PublishError, match=r"no build_freshness view .* publish the build again"):
        check_serving(serving, list(EXPOSED))


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


@pytest.mark.parametrize(
    ("record", "refusal"),
    [
        (
            {"status": "error", "node_statuses": {"model.a": "success", "test.b": "fail"}},
            r"its last dbt build \(inv-new\) failed: test.b \(fail\)$",
        ),
        (
            {"status": "error", "node_statuses": {"model.a": "error", "model.b": "skipped"}},
            r".* failed: model.a \(error\); 1 node\(s\) skipped$",
        ),
        ({"status": "running"}, r"its last dbt build \(inv-new, started .*\) never finished"),
        ({"command": "run"}, r"its last change was `dbt run` \(inv-new\), not `dbt build`"),
        (
            {"selection": "--select mart_unlock_daily"},
            r"its last dbt build \(inv-new\) was partial: --select mart_unlock_daily",
        ),
    ],
)
def test_only_a_complete_passing_build_is_published(tmp_path, manifest, record, refusal):
    """The newest invocation recorded in the file decides, even after an older good build."""
    serving = publish(make_build(tmp_path / "a.duckdb", "good"), tmp_path / "w.duckdb", manifest)
    build = make_build(tmp_path / "b.duckdb", "new")
    with duckdb.connect(str(build)) as con:
        write_build_record(con, "inv-new", **record)
    with pytest.raises(PublishError, match=f"^{build}: {refusal}"):
        publish(build, serving, manifest)
    assert served_build(serving) == "good"


def test_a_file_without_a_build_record_is_not_published(tmp_path, manifest):
    build = make_build(tmp_path / "b.duckdb", "b")
    with duckdb.connect(str(build)) as con:
        con.execute("drop schema build_meta cascade")
    with pytest.raises(PublishError, match="has no build record"):
        publish(build, tmp_path / "w.duckdb", manifest)
    assert not (tmp_path / "w.duckdb").exists()


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
        views = con.execute(
            "select schema_name || '.' || view_name from duckdb_views() where not internal"
        ).fetchall()
        marts = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'marts'"
        ).fetchone()[0]
    assert views == [("main.build_freshness",)]  # the freshness strip's, over build_info
    assert schemas & {"staging", "intermediate", "restricted"} == set()
    assert marts >= 10
    assert b"demo-pseudonym-key" not in superset_warehouse.read_bytes()


class DuckDBDatabase:
    """What served_build_key uses of Superset's Database model, on a plain DuckDB file."""

    backend = "duckdb"

    def __init__(self, path: Path):
        self.path = path
        self.url_object = make_url(f"duckdb:///{path}")

    @contextmanager
    def get_raw_connection(self):
        with duckdb.connect(str(self.path), read_only=True) as con:
            yield con


def build_part(key: str) -> str:
    return key.split(" file ")[0]


def test_the_cache_key_names_the_build_a_chart_query_reads(tmp_path, manifest):
    serving = publish(make_build(tmp_path / "a.duckdb", "a"), tmp_path / "w.duckdb", manifest)
    database = DuckDBDatabase(serving)
    key_a = served_build_key(database)
    assert key_a == served_build_key(database)  # stable between publishes
    with duckdb.connect(str(serving), read_only=True) as query_in_flight:
        publish(make_build(tmp_path / "b.duckdb", "b"), serving, manifest)
        # DuckDB hands new connections the file still open in this process: the old build.
        key_meanwhile = served_build_key(database)
        assert query_in_flight.execute("select build from marts.mart_unlock_daily").fetchone()
    assert build_part(key_meanwhile) == build_part(key_a)
    key_b = served_build_key(database)
    assert build_part(key_b) != build_part(key_a)
    # The same build published again is another file: another key.
    publish(tmp_path / "b.duckdb", serving, manifest)
    assert served_build_key(database) not in {key_a, key_b}


def test_a_file_without_build_info_is_never_served_from_the_cache(tmp_path):
    path = tmp_path / "scratch.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select 1 as x")
    database = DuckDBDatabase(path)
    first, second = served_build_key(database), served_build_key(database)
    assert first.startswith("unknown build") and first != second
    missing = DuckDBDatabase(tmp_path / "missing.duckdb")
    assert served_build_key(missing).startswith("unknown build")


def test_other_databases_keep_supersets_cache_keys():
    class Trino:
        backend = "trino"

    assert served_build_key(Trino()) is None
    assert served_build_key(None) is None


def test_the_next_chart_request_after_a_publish_shows_the_new_build(
    superset_live, built_warehouse, tmp_path
):
    """Chart results stay cached between publishes, and a publish reaches the next request.

    Runs on the session's served file and leaves the session's build published again.
    """
    client = superset_live.client()
    query = next(
        q
        for q in chart_queries(client, load_bundle(settings.DASHBOARDS_DIR))
        if q.chart == "Rows read (last 7 days)"
    )
    payload = {**query.payload, "force": False}

    def load() -> tuple[bool, list[int]]:
        response = client.chart_data(payload)
        assert response.status_code == 200, response.text
        result = response.json()["result"][0]
        # Sorted: the query has no order, and DuckDB may return its days in any order.
        return result["is_cached"], sorted(row["rows_read"] for row in result["data"])

    # Build B: the session's build with other numbers in the mart behind the chart.
    build_b = tmp_path / "warehouse_b.duckdb"
    shutil.copyfile(built_warehouse.path, build_b)
    with duckdb.connect(str(build_b)) as con:
        con.execute(
            "update marts.mart_data_quality_daily set rows_read = rows_read + 1000"
            " where table_name = 'access_events'"
        )
    served = superset_live.warehouse
    try:
        publish(built_warehouse.path, served, built_warehouse.manifest)
        cached, numbers_a = load()
        assert not cached
        assert load() == (True, numbers_a)  # the cache serves repeated requests

        result = CliRunner().invoke(
            dashboards_app,
            [
                "publish",
                *("--from", str(build_b), "--to", str(served)),
                *("--manifest", str(built_warehouse.manifest)),
            ],
        )
        assert result.exit_code == 0, result.output
        cached, numbers_b = load()
        assert not cached
        assert numbers_b == [n + 1000 for n in numbers_a]
        assert load() == (True, numbers_b)
    finally:
        publish(built_warehouse.path, served, built_warehouse.manifest)
    assert load()[1] == numbers_a
