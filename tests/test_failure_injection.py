"""Failure injection: every way a lake upload goes wrong, and exactly what the build does.

Each case damages a tiny hand-made lake (tests/lake_builder.py) the way real uploads go
wrong and asserts the exact outcome: either the build stops before a row is read, with a
message naming the file (and the column, the type expected and the type found), or it
passes and the damage shows where a reader looks (a data-quality row, a warning, the log)
with every row of every lake file accounted for. docs/operations.md lists the same
failures for whoever runs the build.

Speed: each dbt invocation selects only the nodes its case needs, cases that damage
different tables share one lake and one invocation, and the cases that leave the build
passing share one build. Every invocation runs in the same workspace (the same lake,
warehouse and target paths, the lake rewritten for each case), so dbt parses the project
once and then only partially.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lake_builder import (
    SCHEMAS,
    T0,
    event,
    reading,
    write_events,
    write_partition,
    write_readings,
    write_registry_snapshot,
)

from access_analytics.conservation import LakeFileError, balances
from access_analytics.dbt_runner import run_dbt

D0 = T0.date()  # 2026-03-02, the first ingest day of every lake here
TELEMETRY = ("access_events", "fob_battery_readings")
REGISTRIES = ("vehicles", "keys", "firmware_releases")
EXPLAIN_UNREADABLE = (
    "cannot be read: it is not a valid Parquet file (corrupt or truncated, DuckDB cannot"
    " decode it); move it out of the lake or replace it with a good copy, then build again"
)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def on_day(n: int, row: dict, time_column: str = "event_at") -> dict:
    """The row moved n days on: it happened and was received (so ingested) that day."""
    shift = dt.timedelta(days=n)
    return row | {time_column: row[time_column] + shift, "received_at": row["received_at"] + shift}


# --- running dbt -----------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one dbt invocation did: exit code, its log, each node's result, and the
    relations the warehouse held afterwards."""

    returncode: int
    log: str
    results: dict[str, dict]
    relations: frozenset[str]

    def result(self, prefix: str) -> dict:
        """The result of the node named prefix, else of the one node whose name starts
        with it (a data test's name ends in a hash)."""
        if prefix in self.results:
            return self.results[prefix]
        (name,) = [name for name in self.results if name.startswith(prefix)]
        return self.results[name]

    def status(self, prefix: str) -> str:
        return self.result(prefix)["status"]

    def error(self, node: str) -> str:
        """The message a node's error raised, without dbt's header line and macro trace."""
        message = self.result(node)["message"]
        lines = message.splitlines()[1:]  # "Compilation Error in model ..."
        body = []
        for line in lines:
            if line.strip().startswith("> in macro"):
                break
            body.append(line.removeprefix("  "))
        return "\n".join(body).strip()


class Workspace:
    """One lake, warehouse and target folder for every case of the module."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lake = root / "lake"
        self.warehouse = root / "warehouse.duckdb"
        self.target = root / "target"

    def fresh_lake(self) -> Path:
        """An empty lake and no warehouse: the start of a case."""
        shutil.rmtree(self.lake, ignore_errors=True)
        self.warehouse.unlink(missing_ok=True)
        self.lake.mkdir(parents=True)
        return self.lake

    def dbt(self, *args: str) -> Outcome:
        (self.target / "run_results.json").unlink(missing_ok=True)
        completed: subprocess.CompletedProcess[str] = run_dbt(
            list(args),
            lake=self.lake,
            warehouse=self.warehouse,
            target_path=self.target,
            check=False,
        )
        run_results = self.target / "run_results.json"
        assert run_results.exists(), completed.stdout[-3000:]
        results = {
            result["unique_id"].split(".")[2]: result
            for result in json.loads(run_results.read_text())["results"]
        }
        relations: frozenset[str] = frozenset()
        if self.warehouse.exists():
            with duckdb.connect(str(self.warehouse), read_only=True) as con:
                relations = frozenset(
                    f"{schema}.{name}"
                    for schema, name in con.execute(
                        "select table_schema, table_name from information_schema.tables"
                    ).fetchall()
                )
        return Outcome(completed.returncode, completed.stdout, results, relations)

    def saved(self, name: str) -> Path:
        """Where save(name) keeps the lake and warehouse."""
        return self.root.parent / f"{self.root.name}-{name}"

    def save(self, name: str) -> None:
        """Copy the lake and warehouse aside, for cases that start from this state."""
        saved = self.saved(name)
        shutil.rmtree(saved, ignore_errors=True)
        shutil.copytree(self.lake, saved / "lake")
        shutil.copyfile(self.warehouse, saved / "warehouse.duckdb")

    def restore(self, name: str) -> None:
        saved = self.saved(name)
        self.fresh_lake()
        shutil.rmtree(self.lake)
        shutil.copytree(saved / "lake", self.lake)
        shutil.copyfile(saved / "warehouse.duckdb", self.warehouse)

    def query(self, name: str, sql: str, parameters: list | None = None) -> list[tuple]:
        """Rows of a query on the warehouse saved as name."""
        with duckdb.connect(str(self.saved(name) / "warehouse.duckdb"), read_only=True) as con:
            return con.execute(sql, parameters or []).fetchall()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("failure_injection"))


def write_good_lake(lake: Path) -> None:
    """The registries, two valid events and one valid reading, all ingested on D0."""
    write_registry_snapshot(lake)
    write_events(lake, [event(1), event(2)])
    write_readings(lake, [reading(1)])


def schema_with(table: str, column: str, data_type: pa.DataType, rename: str | None = None):
    schema = SCHEMAS[table]
    return schema.set(schema.get_field_index(column), pa.field(rename or column, data_type))


def no_base_relation(outcome: Outcome) -> bool:
    """Nothing was read: no base model was (re)built."""
    return not any(name.startswith("staging.base_raw__") for name in outcome.relations)


# --- files outside the layout: the build stops, every file named on its own line -----


def test_every_file_outside_the_layout_is_named_on_its_own_line(workspace):
    lake = workspace.fresh_lake()
    write_good_lake(lake)
    table = lake / "raw" / "access_events"
    good = table / f"ingest_date={D0}" / "part-0.parquet"
    placed = {
        # at the table's root, not in a partition
        table / "at-the-root.parquet": "not directly in a partition folder",
        # one folder too deep
        table / f"ingest_date={D0}" / "nested" / "deeper.parquet": (
            "not directly in a partition folder"
        ),
        # the upper-case suffix the models' *.parquet glob does not match
        table / f"ingest_date={D0}" / "SHOUTING.PARQUET": "not a <name>.parquet file",
        # a date that does not exist
        table / "ingest_date=2026-13-45" / "part-0.parquet": (
            "ingest_date=2026-13-45 is not a valid date"
        ),
        # hidden from Hive and Trino, read by DuckDB: the engines would disagree
        table / f"ingest_date={D0}" / ".hidden.parquet": (
            "a name starting with . or _ is hidden from Hive and Trino"
        ),
    }
    for path in placed:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(good, path)  # valid Parquet: only the place is wrong
    outcome = workspace.dbt("build", "--select", "base_raw__access_events")
    assert outcome.returncode == 1
    assert outcome.error("base_raw__access_events") == "\n".join(
        [
            "raw table access_events: 5 file(s) outside the layout"
            " access_events/<partition>=YYYY-MM-DD/<name>.parquet:",
            *(f"  {path}: {placed[path]}" for path in sorted(placed, key=str)),
        ]
    )
    assert no_base_relation(outcome)


# --- files that break the contract's columns: one line per file and column -------------


@pytest.fixture(scope="module")
def mistyped(workspace) -> tuple[Path, Outcome]:
    """One lake, three damaged tables: access_events with text rssi_dbm in its first file
    and text event_at in a later one, fob_battery_readings with voltage_mv renamed, and
    no keys registry at all."""
    lake = workspace.fresh_lake()
    write_good_lake(lake)
    text_rssi = event(3, rssi_dbm="-60")
    write_partition(
        lake,
        "access_events",
        D0,
        [text_rssi],
        "a-first.parquet",
        schema_with("access_events", "rssi_dbm", pa.string()),
    )
    text_time = event(4) | {"event_at": str(event(4)["event_at"])}
    write_partition(
        lake,
        "access_events",
        D0,
        [text_time],
        "z-later.parquet",
        schema_with("access_events", "event_at", pa.string()),
    )
    renamed = reading(2)
    renamed["voltage"] = renamed.pop("voltage_mv")
    write_partition(
        lake,
        "fob_battery_readings",
        D0,
        [renamed],
        "renamed.parquet",
        schema_with("fob_battery_readings", "voltage_mv", pa.int16(), rename="voltage"),
    )
    shutil.rmtree(lake / "raw" / "keys")
    outcome = workspace.dbt(
        "build",
        "--select",
        "base_raw__access_events",
        "base_raw__fob_battery_readings",
        "stg_raw__keys",
    )
    return lake, outcome


def test_a_column_stored_with_another_type_names_file_column_and_both_types(mistyped):
    lake, outcome = mistyped
    partition = lake / "raw" / "access_events" / f"ingest_date={D0}"
    # Whether the odd file is the first DuckDB would read or a later one makes no difference.
    assert outcome.error("base_raw__access_events") == (
        "raw table access_events: 2 file column(s) break the raw contract:\n"
        f"  {partition / 'a-first.parquet'}: column rssi_dbm expected smallint, found varchar\n"
        f"  {partition / 'z-later.parquet'}: column event_at expected timestamp, found varchar"
    )
    assert no_base_relation(outcome)


def test_a_renamed_column_names_the_file_and_the_missing_column(mistyped):
    lake, outcome = mistyped
    path = lake / "raw" / "fob_battery_readings" / f"ingest_date={D0}" / "renamed.parquet"
    assert outcome.error("base_raw__fob_battery_readings") == (
        "raw table fob_battery_readings: 1 file column(s) break the raw contract:\n"
        f"  {path}: column voltage_mv is missing (expected smallint)"
    )
    # The renamed column itself is an extra column: accepted, and reported in the log.
    assert (
        f"raw table fob_battery_readings: {path} has columns outside the contract,"
        " not read: voltage"
    ) in outcome.log


def test_a_missing_registry_table_names_it(mistyped):
    lake, outcome = mistyped
    assert outcome.error("stg_raw__keys") == (
        f"raw table keys: no files under {lake}/raw/keys"
        f" (is ACCESS_LAKE_ROOT={lake} the lake root?)"
    )


# --- files that do not decode: the first one stops the build, named -------------------


def corrupt_mid_file(path: Path, column: str = "event_id", seed: int = 0) -> None:
    """512 random bytes written into the middle of a column's pages; the footer stays."""
    metadata = pq.ParquetFile(path).metadata
    row_group = metadata.row_group(0)
    (chunk,) = [
        row_group.column(i)
        for i in range(row_group.num_columns)
        if row_group.column(i).path_in_schema == column
    ]
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    middle = start + chunk.total_compressed_size // 2 - 256
    assert start <= middle and middle + 512 <= start + chunk.total_compressed_size
    data = bytearray(path.read_bytes())
    data[middle : middle + 512] = random.Random(seed).randbytes(512)
    path.write_bytes(bytes(data))


def cannot_decode(path: Path) -> bool:
    with duckdb.connect() as con:
        try:
            con.execute(f"select count(columns(*)) from read_parquet('{path}')").fetchall()
        except duckdb.Error:
            return True
    return False


@pytest.fixture(scope="module")
def unreadable(workspace) -> tuple[Path, dict[str, Path], Outcome]:
    """One lake, three unreadable files: access_events corrupted mid-file (footer intact),
    fob_battery_readings truncated (footer gone), and a vehicles snapshot that is not
    Parquet at all."""
    lake = workspace.fresh_lake()
    write_good_lake(lake)
    corrupt = write_partition(
        lake, "access_events", D0, [event(n) for n in range(10, 2010)], "corrupt.parquet"
    )
    corrupt_mid_file(corrupt)
    truncated = write_partition(
        lake, "fob_battery_readings", D0, [reading(n) for n in range(10, 510)], "cut.parquet"
    )
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    garbage = lake / "raw" / "vehicles" / "snapshot_date=2026-03-01" / "garbage.parquet"
    garbage.write_bytes(b"PAR1 this is not a parquet file")
    files = {"access_events": corrupt, "fob_battery_readings": truncated, "vehicles": garbage}
    assert all(cannot_decode(path) for path in files.values())
    outcome = workspace.dbt(
        "build",
        "--select",
        "base_raw__access_events",
        "base_raw__fob_battery_readings",
        "stg_raw__vehicles",
    )
    return lake, files, outcome


@pytest.mark.parametrize(
    ("table", "node"),
    [
        ("access_events", "base_raw__access_events"),  # corrupt mid-file
        ("fob_battery_readings", "base_raw__fob_battery_readings"),  # truncated
        ("vehicles", "stg_raw__vehicles"),  # not Parquet at all
    ],
)
def test_a_file_that_does_not_decode_stops_the_build_naming_it(unreadable, table, node):
    _, files, outcome = unreadable
    assert outcome.status(node) == "error"
    assert outcome.error(node) == f"raw table {table}: {files[table]} {EXPLAIN_UNREADABLE}"
    assert no_base_relation(outcome)


# --- an empty lake ---------------------------------------------------------------------


def test_an_empty_lake_names_every_raw_table(workspace):
    lake = workspace.fresh_lake()
    outcome = workspace.dbt("build", "--select", "staging")
    assert outcome.returncode == 1
    for table, node in (
        ("access_events", "base_raw__access_events"),
        ("fob_battery_readings", "base_raw__fob_battery_readings"),
        ("vehicles", "stg_raw__vehicles"),
        ("keys", "stg_raw__keys"),
        ("firmware_releases", "stg_raw__firmware_releases"),
    ):
        assert outcome.error(node) == (
            f"raw table {table}: no files under {lake}/raw/{table}"
            f" (is ACCESS_LAKE_ROOT={lake} the lake root?)"
        )
    assert outcome.status("stg_raw__lake_files") == "skipped"
    assert no_base_relation(outcome)


# --- damage the build accepts: it passes, and the damage shows -------------------------

# The nodes a data-quality case needs: staging with its conservation tests, and the
# data-quality mart over it.
QUALITY_NODES = ("staging", "int_raw_rows_unioned", "mart_data_quality_daily")


@pytest.fixture(scope="module")
def quiet(workspace) -> tuple[Path, Outcome]:
    """One lake with every damage the build accepts, built once (staging and data quality).

    access_events: on D0 a file, the same file again under another name (a retried
    upload) and a file with an extra column and a narrower integer type; no file on D1
    (a missing day); on D2 only a file with no rows; one event a day on D3 to D6.
    fob_battery_readings: a reading on D0, and on D1 only two files with no rows.
    Registries: vehicles and firmware_releases have snapshots of D-1 and D0, keys
    only of D-1 (its D0 snapshot is missing).
    """
    lake = workspace.fresh_lake()
    write_registry_snapshot(lake, day(-1))
    write_registry_snapshot(lake, D0)
    shutil.rmtree(lake / "raw" / "keys" / f"snapshot_date={D0}")
    first = write_partition(lake, "access_events", D0, [event(1), event(2)], "part-0.parquet")
    shutil.copyfile(first, first.with_name("retry-part-0.parquet"))
    narrow = schema_with("access_events", "rssi_dbm", pa.int8())
    write_partition(
        lake,
        "access_events",
        D0,
        [event(3) | {"antenna": "front"}],
        "extra-column.parquet",
        narrow.append(pa.field("antenna", pa.string())),
    )
    write_partition(lake, "access_events", day(2), [], "empty.parquet")
    for n in range(3, 7):
        write_events(lake, [on_day(n, event(10 + n))])
    write_readings(lake, [reading(1)])
    for name in ("empty-a.parquet", "empty-b.parquet"):
        write_partition(lake, "fob_battery_readings", day(1), [], name)
    outcome = workspace.dbt("build", "--select", *QUALITY_NODES)
    workspace.save("quiet")
    return lake, outcome


def quality_rows(workspace) -> dict[tuple[str, dt.date], tuple]:
    """(rows_read, rows_kept, duplicates_dropped, rows_quarantined, is_missing_day) by
    table and ingest day, from the quiet lake's mart_data_quality_daily."""
    rows = workspace.query(
        "quiet",
        "select table_name, ingest_date, rows_read, rows_kept, duplicates_dropped,"
        " rows_quarantined, is_missing_day from marts.mart_data_quality_daily",
    )
    return {(row[0], row[1]): row[2:] for row in rows}


def test_the_quiet_lake_builds_with_only_the_expected_warnings(quiet):
    _, outcome = quiet
    assert outcome.returncode == 0, outcome.log[-3000:]
    statuses = {name: result["status"] for name, result in outcome.results.items()}
    warned = sorted(name for name, status in statuses.items() if status == "warn")
    assert warned == ["assert_registry_snapshots_agree", "no_missing_ingest_day"]
    assert set(statuses.values()) <= {"success", "pass", "warn"}
    for table in TELEMETRY:
        assert outcome.status(f"conservation_of_rows_stg_raw__{table}") == "pass"


def test_every_row_of_every_file_is_accounted_for(quiet, workspace):
    lake, _ = quiet
    inventory = workspace.query(
        "quiet", "select table_name, file_path, row_count from staging.stg_raw__lake_files"
    )
    read = dict(
        workspace.query(
            "quiet",
            "select source_file, count(*) from staging.base_raw__access_events"
            " group by source_file union all"
            " select source_file, count(*) from staging.base_raw__fob_battery_readings"
            " group by source_file",
        )
    )
    on_disk = {
        (table, str(path.relative_to(lake)), pq.read_metadata(path).num_rows)
        for table in TELEMETRY
        for path in (lake / "raw" / table).rglob("*")
        if path.is_file()
    }
    assert set(inventory) == on_disk
    assert {path: rows for _, path, rows in inventory if rows} == read


def test_a_partition_with_only_files_without_rows_is_a_present_day_with_zero_rows(quiet, workspace):
    rows = quality_rows(workspace)
    # (rows_read, rows_kept, duplicates_dropped, rows_quarantined, is_missing_day)
    assert rows[("access_events", day(2))] == (0, 0, 0, 0, False)
    assert rows[("fob_battery_readings", day(1))] == (0, 0, 0, 0, False)


def test_a_day_without_files_is_a_missing_day_and_a_warning(quiet, workspace):
    _, outcome = quiet
    rows = quality_rows(workspace)
    assert {key for key, row in rows.items() if row[-1]} == {("access_events", day(1))}
    assert rows[("access_events", day(1))] == (0, 0, 0, 0, True)
    assert outcome.status("no_missing_ingest_day") == "warn"
    assert outcome.result("no_missing_ingest_day")["failures"] == 1
    # Every other day between the table's first and newest ingest day is present.
    assert sorted(day for table, day in rows if table == "access_events") == [
        day(n) for n in range(7)
    ]


def test_the_same_file_under_two_names_is_counted_as_duplicates(quiet, workspace):
    rows = quality_rows(workspace)
    # part-0 and its retried copy (2 rows each) and the extra-column file (1 row)
    assert rows[("access_events", D0)] == (5, 3, 2, 0, False)
    dropped = workspace.query(
        "quiet",
        "select source_file, count(*) from staging.stg_raw__access_events_duplicates"
        " group by source_file",
    )
    assert dropped == [(f"raw/access_events/ingest_date={D0}/retry-part-0.parquet", 2)]


def test_an_extra_column_is_accepted_and_reported_in_the_log(quiet, workspace):
    lake, outcome = quiet
    path = lake / "raw" / "access_events" / f"ingest_date={D0}" / "extra-column.parquet"
    assert (
        f"raw table access_events: {path} has columns outside the contract, not read: antenna"
    ) in outcome.log
    kept = workspace.query(
        "quiet",
        "select rssi_dbm from staging.stg_raw__access_events where event_id = ?",
        [f"{3:032x}"],
    )
    assert kept == [(-60,)]  # the narrower integer type is read as the contract's


def test_a_registry_missing_its_newest_snapshot_warns_naming_it(quiet, workspace):
    _, outcome = quiet
    assert outcome.status("assert_registry_snapshots_agree") == "warn"
    # keys is read as of its own newest snapshot, a day behind the others
    assert workspace.query(
        "quiet", "select * from dbt_test__audit.assert_registry_snapshots_agree"
    ) == [("keys", day(-1), D0)]


# --- conservation: a row or a file staging did not account for fails the build --------


def stored_failures(workspace, table: str) -> list[tuple]:
    with duckdb.connect(str(workspace.warehouse), read_only=True) as con:
        return con.execute(
            "select partition_value, file_path, rows_in_lake, rows_kept, duplicates_dropped,"
            f" rows_quarantined from dbt_test__audit.conservation_of_rows__{table}"
            " order by file_path nulls last"
        ).fetchall()


def test_a_file_landing_before_the_incremental_window_fails_conservation(quiet, workspace):
    """A late file in a partition the incremental run no longer re-reads (the newest
    day is D6, the lookback 3 days: D3 on) is in the lake but not in staging."""
    workspace.restore("quiet")
    late = write_partition(workspace.lake, "access_events", D0, [event(50)], "late.parquet")
    outcome = workspace.dbt("build", "--select", *QUALITY_NODES)
    assert outcome.returncode == 1
    assert outcome.status("conservation_of_rows_stg_raw__access_events") == "fail"
    assert outcome.status("conservation_of_rows_stg_raw__fob_battery_readings") == "pass"
    assert "See test failures:" in outcome.log
    assert stored_failures(workspace, "access_events") == [
        (D0, str(late.relative_to(workspace.lake)), 1, 0, 0, 0),
        (D0, None, 6, 3, 2, 0),
    ]


@pytest.fixture(scope="module")
def retested(quiet, workspace) -> Outcome:
    """The quiet build with one kept row deleted from staging, tested again (conservation
    and the missing-day test) with var missing_ingest_day_severity=error: two cases, one
    invocation (a changed var makes dbt parse the whole project again)."""
    workspace.restore("quiet")
    with duckdb.connect(str(workspace.warehouse)) as con:
        con.execute(
            "delete from staging.base_raw__access_events"
            " where event_id = ? and quarantine_reason is null"
            " and (source_file, source_row_number) not in ("
            "  select source_file, source_row_number"
            "  from staging.base_raw__access_events_later_copies)",
            [f"{1:032x}"],
        )
    return workspace.dbt(
        "test",
        "--select",
        "test_name:conservation_of_rows",
        "no_missing_ingest_day",
        "--vars",
        "{missing_ingest_day_severity: error}",
    )


def test_a_kept_row_that_disappears_fails_conservation(retested, workspace):
    assert retested.returncode == 1
    assert retested.status("conservation_of_rows_stg_raw__access_events") == "fail"
    assert stored_failures(workspace, "access_events") == [
        (D0, f"raw/access_events/ingest_date={D0}/part-0.parquet", 2, 1, 0, 0),
        (D0, None, 5, 2, 2, 0),
    ]


def test_a_missing_day_is_an_error_when_the_var_says_so(retested):
    assert retested.status("no_missing_ingest_day") == "fail"
    assert retested.result("no_missing_ingest_day")["message"] == (
        "Got 1 result, configured to fail if != 0"
    )


# --- the demo's own balance, counted in Python without dbt -----------------------------


def test_the_python_balance_counts_every_file_of_the_lake(quiet, workspace, tmp_path):
    """conservation.balances lists every file at any depth and in any case: a file the
    models would not read (and the build would refuse) breaks the balance."""
    saved = workspace.saved("quiet")
    lake = tmp_path / "lake"
    shutil.copytree(saved / "lake", lake)
    warehouse = saved / "warehouse.duckdb"
    assert all(balance.adds_up for balance in balances(warehouse, lake))
    partition = lake / "raw" / "access_events" / f"ingest_date={D0}"
    (partition / "nested").mkdir()
    shutil.copyfile(partition / "part-0.parquet", partition / "nested" / "deeper.parquet")
    shutil.copyfile(partition / "part-0.parquet", partition / "SHOUTING.PARQUET")
    events, readings = balances(warehouse, lake)
    # the quiet lake's 9 rows, and 2 more in each copy the models would not read
    assert (events.rows_read, events.adds_up) == (9 + 2 + 2, False)
    assert readings.adds_up
    (partition / "broken.parquet").write_bytes(b"PAR1 this is not a parquet file")
    with pytest.raises(LakeFileError, match=r"broken\.parquet: not a readable Parquet file"):
        balances(warehouse, lake)
