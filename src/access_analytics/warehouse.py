"""The DuckDB files: the one dbt builds and the ones Superset serves, and publishing between them.

dbt builds into its own file (staging views that read the raw lake, intermediate
tables, marts, the restricted identity map). Superset never reads it. Publishing
writes NEW files instead, from what the dbt manifest says is public:

- the serving file: every model of schema `marts` as a plain table (no view, so
  no SQL text and no pseudonym key; no staging, intermediate or restricted
  schema) plus a `build_info` table describing the build and the `build_freshness`
  view over it that the dashboards' freshness strip reads;
- the restricted file beside it: only `restricted.*`, reached through its own
  Superset connection.

Only a build whose own record (schema build_meta, written by dbt's on-run hooks
into the same file) says a complete `dbt build` passed is published.

Each file is written under a temporary name, checked, then renamed over the
served one. A rename is atomic on one filesystem: readers see the old or the new
file, and connections already open keep reading the old inode.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from access_analytics.paths import PROJECT_ROOT

PUBLIC_SCHEMA = "marts"
RESTRICTED_SCHEMA = "restricted"
RESTRICTED_FILE_NAME = "restricted_identities.duckdb"
# The serving file's own schema: build_info and the build_freshness view over it.
BUILD_INFO_SCHEMA = "main"
BUILD_FRESHNESS_VIEW = "build_freshness"
BUILD_FRESHNESS_SQL = Path(__file__).with_name("build_freshness.sql")


class PublishError(RuntimeError):
    pass


def _resolve(value: str | os.PathLike[str]) -> Path:
    """Relative paths are relative to the repository root, wherever the command runs."""
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


def build_path() -> Path:
    """The DuckDB file dbt writes (ACCESS_WAREHOUSE_PATH, as in profiles.yml)."""
    return _resolve(os.environ.get("ACCESS_WAREHOUSE_PATH", "data/warehouse.duckdb"))


def serving_path() -> Path:
    """The marts-only file Superset reads; only ever replaced by an atomic swap."""
    return _resolve(
        os.environ.get("ACCESS_SERVING_WAREHOUSE_PATH", "data/serving/warehouse.duckdb")
    )


def restricted_path(serving: Path | None = None) -> Path:
    """The restricted identity file, always beside the serving file.

    Not named after its schema: DuckDB names the catalog after the file, and a catalog
    named like a schema makes `restricted.x` ambiguous.
    """
    return (serving or serving_path()).with_name(RESTRICTED_FILE_NAME)


def default_manifest() -> Path:
    return PROJECT_ROOT / "target" / "manifest.json"


@dataclass(frozen=True)
class PublishPlan:
    """What the dbt manifest says to publish and what must be there."""

    public: list[str]
    restricted: list[str]
    required: list[str]


def _model_schema(node: dict[str, Any]) -> str:
    return str(node.get("schema") or "")


def _relation(node: dict[str, Any]) -> str:
    return str(node.get("alias") or node["name"])


def plan_from_manifest(manifest_path: Path) -> PublishPlan:
    """Public models (`access: public`, else schema marts), restricted models, exposure needs."""
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise PublishError(f"{manifest_path}: cannot read the dbt manifest: {exc}") from exc
    models = {
        uid: node
        for uid, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") == "model"
    }
    public = sorted(
        _relation(node)
        for node in models.values()
        if _model_schema(node) == PUBLIC_SCHEMA and node.get("access") == "public"
    )
    # Before `access: public` lands every model defaults to "protected": then the schema decides.
    if not public:
        public = sorted(_relation(n) for n in models.values() if _model_schema(n) == PUBLIC_SCHEMA)
    restricted = sorted(
        _relation(n) for n in models.values() if _model_schema(n) == RESTRICTED_SCHEMA
    )
    required: set[str] = set()
    for exposure in manifest.get("exposures", {}).values():
        for uid in exposure.get("depends_on", {}).get("nodes", []):
            node = models.get(uid)
            if node is None:
                continue
            if _model_schema(node) != PUBLIC_SCHEMA:
                raise PublishError(
                    f"exposure {exposure.get('name')} depends on {uid}, "
                    f"outside schema {PUBLIC_SCHEMA}: it would not be served"
                )
            required.add(_relation(node))
    if not required:
        raise PublishError(f"{manifest_path}: no exposure depends on a mart")
    return PublishPlan(public=public, restricted=restricted, required=sorted(required))


BUILD_RECORD_SCHEMA = "build_meta"
PASSING_STATUSES = ("success", "pass", "warn", "no-op")


@dataclass(frozen=True)
class BuildRecord:
    """The newest dbt invocation recorded in a build file (see macros/build/build_record.sql)."""

    invocation_id: str
    command: str
    selection: str
    started_at: str
    finished_at: str | None
    status: str
    nodes_run: int | None
    dbt_version: str
    project_commit: str
    failed_nodes: list[tuple[str, str]]
    raw_tables: list[dict[str, Any]]

    def refusal(self) -> str | None:
        """Why this build must not be published, in one line; None when it may be."""
        if self.status == "running":
            return (
                f"its last dbt {self.command} ({self.invocation_id}, started {self.started_at})"
                " never finished"
            )
        if self.command != "build":
            return (
                f"its last change was `dbt {self.command}` ({self.invocation_id}), not `dbt build`:"
                " its tests did not run"
            )
        if self.selection:
            return f"its last dbt build ({self.invocation_id}) was partial: {self.selection}"
        if self.failed_nodes or self.status != "success":
            causes = [(uid, status) for uid, status in self.failed_nodes if status != "skipped"]
            skipped = len(self.failed_nodes) - len(causes)
            listed = ", ".join(f"{uid} ({status})" for uid, status in causes[:3])
            if len(causes) > 3:
                listed += f" and {len(causes) - 3} more"
            return (
                f"its last dbt build ({self.invocation_id}) failed: {listed or 'no node failed'}"
                + (f"; {skipped} node(s) skipped" if skipped else "")
            )
        if not self.raw_tables:
            return f"its last dbt build ({self.invocation_id}) recorded no raw tables"
        return None


def read_build_record(con: duckdb.DuckDBPyConnection, catalog: str) -> BuildRecord | None:
    """The newest invocation recorded in the attached file `catalog`, or None without a record."""
    tables = _existing_tables(con, BUILD_RECORD_SCHEMA, catalog)
    if not {"dbt_invocations", "dbt_node_results", "dbt_raw_tables"} <= tables:
        return None
    meta = f'"{catalog}".{BUILD_RECORD_SCHEMA}'
    row = con.execute(
        "select invocation_id, command, selection, started_at, finished_at, status, nodes_run,"
        f" dbt_version, project_commit from {meta}.dbt_invocations"
        " order by started_at desc limit 1"
    ).fetchone()
    if row is None:
        return None
    failed = con.execute(
        f"select unique_id, status from {meta}.dbt_node_results"
        " where invocation_id = ? and status not in (select unnest(?))"
        # The causes first: errors and failures before the nodes skipped because of them.
        " order by status = 'skipped', unique_id",
        [row[0], list(PASSING_STATUSES)],
    ).fetchall()
    cursor = con.execute(
        "select table_name, newest_ingest_date, rows_read, rows_kept"
        f" from {meta}.dbt_raw_tables where invocation_id = ? order by table_name",
        [row[0]],
    )
    names = [column[0] for column in cursor.description]
    raw_tables = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return BuildRecord(*row, failed_nodes=failed, raw_tables=raw_tables)


@dataclass(frozen=True)
class NodeResult:
    """One node's outcome in a recorded invocation (tests included)."""

    unique_id: str
    resource_type: str
    status: str
    failures: int | None
    message: str

    @property
    def passed(self) -> bool:
        return self.status in PASSING_STATUSES


def read_node_results(
    con: duckdb.DuckDBPyConnection, catalog: str, invocation_id: str
) -> list[NodeResult]:
    """Every node the invocation ran, in the attached file `catalog`, by unique id."""
    rows = con.execute(
        "select unique_id, resource_type, status, failures, coalesce(message, '')"
        f' from "{catalog}".{BUILD_RECORD_SCHEMA}.dbt_node_results'
        " where invocation_id = ? order by unique_id",
        [invocation_id],
    ).fetchall()
    return [NodeResult(*row) for row in rows]


def read_build_file(build: Path) -> tuple[BuildRecord | None, list[NodeResult]]:
    """The newest invocation recorded in a warehouse file and its node results.

    (None, []) when the file has no record; PublishError when it is missing or unreadable.
    """
    if not build.exists():
        raise PublishError(f"{build}: no such warehouse file (did dbt build run?)")
    try:
        with duckdb.connect(":memory:") as con:
            quoted = str(build).replace("'", "''")
            con.execute(f"attach '{quoted}' as build (read_only)")
            record = read_build_record(con, "build")
            nodes = read_node_results(con, "build", record.invocation_id) if record else []
    except duckdb.Error as exc:
        raise PublishError(f"{build}: cannot be read: {exc}") from exc
    return record, nodes


def check_build(build: Path) -> BuildRecord:
    """The build's record, when it says a complete `dbt build` passed; else PublishError."""
    record, _nodes = read_build_file(build)
    if record is None:
        raise PublishError(f"{build}: has no build record (schema {BUILD_RECORD_SCHEMA})")
    refusal = record.refusal()
    if refusal:
        raise PublishError(f"{build}: {refusal}")
    return record


def _existing_tables(
    con: duckdb.DuckDBPyConnection, schema: str, catalog: str | None = None
) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables"
        " where table_catalog = coalesce(?, current_database()) and table_schema = ?",
        [catalog, schema],
    ).fetchall()
    return {row[0] for row in rows}


def _copy_schema(
    con: duckdb.DuckDBPyConnection, schema: str, names: list[str], required: list[str]
) -> None:
    """CREATE TABLE ... AS SELECT every relation from the attached build, read-only.

    Reading every row verifies the build file's block checksums; the row counts of
    each copy must equal its source's.
    """
    available = _existing_tables(con, schema, "build")
    missing = [name for name in required if name not in available]
    if missing:
        raise PublishError(f"schema {schema} lacks {', '.join(missing)}")
    con.execute(f'create schema "{schema}"')
    for name in names:
        if name not in available:
            continue
        source, copy = f'build."{schema}"."{name}"', f'"{schema}"."{name}"'
        try:
            con.execute(f"create table {copy} as select * from {source}")
            counts = con.execute(
                f"select (select count(*) from {source}), (select count(*) from {copy})"
            ).fetchone()
        except duckdb.Error as exc:
            raise PublishError(f"{schema}.{name} cannot be read: {exc}") from exc
        if counts is None or counts[0] != counts[1]:
            raise PublishError(
                f"{schema}.{name}: copied {counts} rows, the build has another count"
            )


STALE_AFTER_ENV = "ACCESS_STALE_AFTER_HOURS"
DEFAULT_STALE_AFTER_HOURS = 36.0

# main.build_info, one row per raw table: its columns, their types and what they mean.
# `dashboards check` reads this to check the datasets over build_info.
BUILD_INFO_COLUMNS: dict[str, tuple[str, str]] = {
    "invocation_id": ("varchar", "dbt invocation id of the published build."),
    "build_started_at": ("varchar", "When the published dbt build started (ISO 8601, UTC)."),
    "build_finished_at": ("varchar", "When the published dbt build finished (ISO 8601, UTC)."),
    "build_status": ("varchar", "Status of the published dbt build (always success)."),
    "tests_run": ("bigint", "Data and unit tests the published build ran."),
    "tests_passed": ("bigint", "Tests of the published build that passed."),
    "tests_warned": ("bigint", "Tests of the published build that passed with a warning."),
    "dbt_version": ("varchar", "dbt version of the build."),
    "project_commit": ("varchar", "Commit of the project the build ran."),
    "published_at": ("varchar", "When the build was published (ISO 8601, UTC)."),
    "stale_after_hours": (
        "double",
        f"Age of the newest received row after which the data reads as stale"
        f" ({STALE_AFTER_ENV} at publish time, default {DEFAULT_STALE_AFTER_HOURS:g}).",
    ),
    "table_name": ("varchar", "Raw table: telemetry or registry."),
    "is_telemetry": (
        "boolean",
        "True for access_events and fob_battery_readings.",
    ),
    "newest_ingest_date": (
        "date",
        "Newest ingest day holding rows (telemetry) or newest snapshot day (registry).",
    ),
    "newest_event_date": (
        "date",
        "Newest session or fob-day in the marts built from the table; null for a registry.",
    ),
    "newest_received_at": (
        "timestamp",
        "Newest server receive time among the table's kept rows; null for a registry.",
    ),
    "rows_read": ("bigint", "Rows read from the table over every ingest day."),
    "rows_kept": ("bigint", "Rows kept from the table over every ingest day."),
    "rows_quarantined_newest_day": (
        "bigint",
        "Rows of the table quarantined on its newest ingest day; null for a registry.",
    ),
}

# Per telemetry table: the marts (and their day column) whose newest day is its newest event day.
EVENT_DAYS = {
    "access_events": [
        ("fct_unlock_attempts", "attempt_date"),
        ("fct_card_taps", "tap_date"),
        ("fct_walkaway_episodes", "episode_date"),
    ],
    "fob_battery_readings": [("fct_fob_battery_daily", "reading_date")],
}
QUALITY_MART = "mart_data_quality_daily"


def stale_after_hours() -> float:
    """The configured age after which the served data reads as stale on the dashboards."""
    value = os.environ.get(STALE_AFTER_ENV, "").strip()
    if not value:
        return DEFAULT_STALE_AFTER_HOURS
    try:
        hours = float(value)
    except ValueError:
        hours = -1.0
    if not hours > 0:
        raise PublishError(f"{STALE_AFTER_ENV}={value!r}: expected a positive number of hours")
    return hours


def _build_info_column_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """main.build_info's columns in order (none when the file has no build_info)."""
    return [
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns"
            " where table_catalog = current_database() and table_schema = 'main'"
            " and table_name = 'build_info' order by ordinal_position"
        ).fetchall()
    ]


def _copy_build_info(
    con: duckdb.DuckDBPyConnection, record: BuildRecord, stale_after: float
) -> None:
    """main.build_info: one row per raw table of the build's record, with the build's identity.

    Besides the record, each row says how fresh its table is in the marts just copied
    (newest event day, newest receive time, rows quarantined on the newest ingest day)
    and carries the build's test counts and the stale limit: the freshness strip of
    every dashboard reads only this table.
    """
    columns = set(
        con.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_catalog = current_database() and table_schema = ?",
            [PUBLIC_SCHEMA],
        ).fetchall()
    )
    event_days = []
    for table, sources in EVENT_DAYS.items():
        present = [(m, c) for m, c in sources if (m, c) in columns]
        if present:
            newest = ", ".join(f'(select max("{c}") from marts."{m}")' for m, c in present)
            event_days.append(f"select '{table}' as table_name, greatest({newest}) as day")
    event_sql = " union all ".join(event_days) or "select null::varchar, null::date"
    quality_columns = {"table_name", "ingest_date", "rows_quarantined", "max_received_at"}
    if all((QUALITY_MART, c) in columns for c in quality_columns):
        quality_sql = f"""
            select
                quality.table_name,
                max(quality.max_received_at) as newest_received_at,
                sum(quality.rows_quarantined) filter (
                    where quality.ingest_date = raw_table.newest_ingest_date
                ) as rows_quarantined_newest_day
            from marts."{QUALITY_MART}" as quality
            inner join build.{BUILD_RECORD_SCHEMA}.dbt_raw_tables as raw_table
                on raw_table.table_name = quality.table_name and raw_table.invocation_id = ?
            group by quality.table_name
        """
        params = [record.invocation_id]
    else:
        quality_sql = "select null::varchar, null::timestamp, null::bigint"
        params = []
    con.execute(
        f"""
        create table main.build_info as
        with tests as (
            select
                count(*) as tests_run,
                count(*) filter (where status = 'pass') as tests_passed,
                count(*) filter (where status = 'warn') as tests_warned
            from build.{BUILD_RECORD_SCHEMA}.dbt_node_results
            where invocation_id = ? and resource_type in ('test', 'unit_test')
        ),
        event_days (table_name, newest_event_date) as ({event_sql}),
        quality (table_name, newest_received_at, rows_quarantined_newest_day) as (
            {quality_sql}
        )
        select
            invocation.invocation_id,
            invocation.started_at as build_started_at,
            invocation.finished_at as build_finished_at,
            invocation.status as build_status,
            tests.tests_run,
            tests.tests_passed,
            tests.tests_warned,
            invocation.dbt_version,
            invocation.project_commit,
            strftime(now() at time zone 'UTC', '%Y-%m-%dT%H:%M:%S+00:00') as published_at,
            ?::double as stale_after_hours,
            raw_table.table_name,
            raw_table.table_name in (select unnest(?)) as is_telemetry,
            raw_table.newest_ingest_date,
            event_days.newest_event_date,
            quality.newest_received_at,
            raw_table.rows_read,
            raw_table.rows_kept,
            quality.rows_quarantined_newest_day
        from build.{BUILD_RECORD_SCHEMA}.dbt_invocations as invocation
        inner join build.{BUILD_RECORD_SCHEMA}.dbt_raw_tables as raw_table
            on invocation.invocation_id = raw_table.invocation_id
        cross join tests
        left join event_days on raw_table.table_name = event_days.table_name
        left join quality on raw_table.table_name = quality.table_name
        where invocation.invocation_id = ?
        order by raw_table.table_name
        """,
        [
            record.invocation_id,
            *params,
            stale_after,
            sorted(EVENT_DAYS),
            record.invocation_id,
        ],
    )
    names = _build_info_column_names(con)
    if names != list(BUILD_INFO_COLUMNS):
        raise PublishError(f"build_info has columns {names}, expected {list(BUILD_INFO_COLUMNS)}")
    create_build_freshness(con)


def create_build_freshness(con: duckdb.DuckDBPyConnection) -> None:
    """The view main.build_freshness over main.build_info (build_freshness.sql)."""
    con.execute(
        f"create or replace view {BUILD_INFO_SCHEMA}.{BUILD_FRESHNESS_VIEW} as"
        f" {BUILD_FRESHNESS_SQL.read_text()}"
    )


def _write_file(
    build: Path, target: Path, fill: Callable[[duckdb.DuckDBPyConnection], None]
) -> Path:
    """A new DuckDB file under a temporary name beside target, filled from the attached build."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # A neutral name: DuckDB names the catalog after the file, which must not shadow a schema.
    fd, tmp_name = tempfile.mkstemp(prefix=".publishing_", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # DuckDB creates the file itself
    try:
        with duckdb.connect(str(tmp)) as con:
            quoted = str(build).replace("'", "''")
            con.execute(f"attach '{quoted}' as build (read_only)")
            fill(con)
            con.execute("detach build")
            con.execute("checkpoint")
        return tmp
    except duckdb.Error as exc:
        tmp.unlink(missing_ok=True)
        raise PublishError(f"{build}: cannot be read: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _swap(tmp: Path, target: Path) -> None:
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def check_serving(path: Path, required: list[str]) -> None:
    """Open read-only: every relation an exposure needs is there and readable, and
    build_info and the freshness view over it are this version's."""
    if not path.exists():
        raise PublishError(f"{path}: no such warehouse file (publish a build first)")
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            available = _existing_tables(con, PUBLIC_SCHEMA)
            missing = [name for name in required if name not in available]
            if missing:
                raise PublishError(f"{path}: schema marts lacks {', '.join(missing)}")
            for name in required:
                con.execute(f'select count(*) from marts."{name}"').fetchone()
            if _build_info_column_names(con) != list(BUILD_INFO_COLUMNS):
                raise PublishError(
                    f"{path}: its build_info is not this version's (the dashboards' freshness"
                    " strip reads it): publish the build again"
                )
            if BUILD_FRESHNESS_VIEW not in _existing_tables(con, BUILD_INFO_SCHEMA):
                raise PublishError(
                    f"{path}: it has no {BUILD_FRESHNESS_VIEW} view (the dashboards' freshness"
                    " strip reads it): publish the build again"
                )
            rows = con.execute(
                f"select count(*) from {BUILD_INFO_SCHEMA}.{BUILD_FRESHNESS_VIEW}"
            ).fetchone()
            if rows != (1,):
                raise PublishError(f"{path}: {BUILD_FRESHNESS_VIEW} has {rows[0]} rows, not one")
    except duckdb.Error as exc:
        raise PublishError(f"{path}: cannot be read: {exc}") from exc


def publish(build: Path, serving: Path, manifest: Path | None = None) -> Path:
    """Write the marts-only serving file and the restricted file from a build, then swap both.

    Refused (PublishError, one line) unless the build file's own record says its
    newest dbt invocation was a complete `dbt build` in which every node passed.
    """
    stale_after = stale_after_hours()
    record = check_build(build)
    plan = plan_from_manifest(manifest or default_manifest())

    def fill_public(con: duckdb.DuckDBPyConnection) -> None:
        _copy_schema(con, PUBLIC_SCHEMA, plan.public, plan.required)
        _copy_build_info(con, record, stale_after)

    def fill_restricted(con: duckdb.DuckDBPyConnection) -> None:
        _copy_schema(con, RESTRICTED_SCHEMA, plan.restricted, plan.restricted)

    public_tmp = _write_file(build, serving, fill_public)
    restricted = restricted_path(serving)
    restricted_tmp: Path | None = None
    try:
        check_serving(public_tmp, plan.required)
        if plan.restricted:
            restricted_tmp = _write_file(build, restricted, fill_restricted)
            _swap(restricted_tmp, restricted)
        _swap(public_tmp, serving)
    finally:
        public_tmp.unlink(missing_ok=True)
        if restricted_tmp is not None:
            restricted_tmp.unlink(missing_ok=True)
    return serving
