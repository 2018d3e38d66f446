"""Incremental builds give the same marts as a full build, row for row.

The lake arrives in three deliveries: the first days (with one partition only
half written), then the next days plus the rest of that half-written
partition (a late file landing in an already-built partition), then the rest.
Late events for days already built arrive in every delivery, since the
generator uploads some rows hours to weeks after they happened. After each
delivery the project is built incrementally; at the end every relation of
the marts (and the restricted schema) must equal a --full-refresh build of the
whole lake (set difference both ways is empty), and a further build with no
new data must change nothing. Two things change after the fact and are
checked on the way: a day becomes complete once the next days' partitions
have arrived, and a card tap's intent changes when a lock event from days
before it arrives late.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from access_analytics.dbt_runner import run_dbt
from access_analytics.generator import generate_lake

START = dt.date(2026, 1, 5)
DAYS = 16
FIRST_CUT = START + dt.timedelta(days=5)
SECOND_CUT = START + dt.timedelta(days=10)
TELEMETRY = ("access_events", "fob_battery_readings")
REGISTRIES = ("vehicles", "keys", "firmware_releases")
PARTITION = re.compile(r"^(ingest_date|snapshot_date)=(\d{4}-\d{2}-\d{2})$")


def partitions(lake: Path, table: str) -> dict[dt.date, list[Path]]:
    found = {}
    for folder in sorted((lake / "raw" / table).iterdir()):
        match = PARTITION.match(folder.name)
        if match:
            found[dt.date.fromisoformat(match.group(2))] = sorted(folder.glob("*.parquet"))
    return found


def deliver(source: Path, target: Path, files: list[Path]) -> None:
    for file in files:
        destination = target / file.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, destination)


def delivery_files(lake: Path, first: dt.date | None, last: dt.date) -> list[Path]:
    """Files of partitions in (first, last]; registries by snapshot day."""
    files = []
    for table in TELEMETRY + REGISTRIES:
        for day, day_files in partitions(lake, table).items():
            if (first is None or day > first) and day <= last:
                files += day_files
    return files


def at(day: int, clock: str) -> dt.datetime:
    return dt.datetime.combine(START + dt.timedelta(days=day), dt.time.fromisoformat(clock))


def plant_event(lake: Path, schema: pa.Schema, file_name: str, **columns: object) -> None:
    """One hand-made access event (firmware 2026.1.0, other columns null unless given) in a
    file of its own, in the ingest partition of its received_at."""
    row = dict.fromkeys(schema.names) | {"firmware_version": "2026.1.0"} | columns
    folder = lake / "raw" / "access_events" / f"ingest_date={row['received_at'].date()}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([row], schema=schema), folder / file_name)


def plant_late_sessions(lake: Path) -> None:
    """Hand-made sessions whose deciding event arrives days late, across midnight.

    Each row is (event_at, received_at, event_type, lock_source): an attempt at
    23:59:50 whose unlock (00:00:10 next day) arrives 11 days later; a walk-away
    episode at 23:55 whose lock (00:04 next day) arrives 8 days later; and an
    attempt cut by a start that arrives a week late.
    """
    sample = sorted((lake / "raw" / "access_events").glob("*/*.parquet"))[0]
    schema = pq.read_schema(sample)
    vehicle = pq.read_table(sorted((lake / "raw" / "vehicles").glob("*/*.parquet"))[0])
    vin = vehicle.column("vin")[0].as_py()
    planted = [
        (at(2, "23:59:50"), at(2, "23:59:55"), "unlock_zone_entered", None),
        (at(3, "00:00:10"), at(14, "08:00:00"), "door_unlocked", "passive"),
        (at(4, "23:55:00"), at(4, "23:55:03"), "lock_zone_exited", None),
        (at(5, "00:04:00"), at(12, "09:00:00"), "door_locked", "walkaway"),
        (at(6, "10:00:00"), at(6, "10:00:02"), "unlock_zone_entered", None),
        (at(6, "10:00:20"), at(6, "10:00:22"), "door_unlocked", "passive"),
        (at(6, "10:00:05"), at(13, "07:00:00"), "unlock_zone_entered", None),
    ]
    phone_key = {"key_id": "f" * 32, "key_type": "phone", "radio": "ble", "rssi_dbm": -60}
    for number, (event_at, received_at, event_type, lock_source) in enumerate(planted):
        starts_a_session = event_type in ("unlock_zone_entered", "lock_zone_exited")
        plant_event(
            lake,
            schema,
            f"planted-{number}.parquet",
            event_id=f"{number:032x}",
            vin=vin,
            event_at=event_at,
            received_at=received_at,
            event_type=event_type,
            lock_source=lock_source,
            **(phone_key if starts_a_session else {}),
        )


REPEATED_EVENT = "b" * 32


def plant_repeated_upload(lake: Path) -> None:
    """One event uploaded twice: on day 1, and again on day 14 (the third delivery), long
    after the first copy's partition left the incremental runs' re-read window."""
    sample = sorted((lake / "raw" / "access_events").glob("*/*.parquet"))[0]
    schema = pq.read_schema(sample)
    for copy, received_at in (("first", at(1, "09:00:05")), ("again", at(14, "06:00:00"))):
        plant_event(
            lake,
            schema,
            f"planted-repeated-{copy}.parquet",
            event_id=REPEATED_EVENT,
            vin=PLANTED_VIN,
            event_at=at(1, "09:00:00"),
            received_at=received_at,
            event_type="door_locked",
            lock_source="app",
        )


PLANTED_VIN = "PLANTED0000000001"  # a vehicle of its own, outside the registry
PLANTED_TAP = "c" * 32


def plant_late_lock_state(lake: Path) -> None:
    """A card tap whose lock state comes from an event days before it that arrives late.

    The car is unlocked on day 3 and tapped on day 8 (a lock tap, delivered
    with the second delivery); a lock on day 5 arrives only on day 12 (the
    third delivery) and makes the day-8 tap an unlock tap.
    """
    sample = sorted((lake / "raw" / "access_events").glob("*/*.parquet"))[0]
    schema = pq.read_schema(sample)
    planted = [
        ("d" * 32, at(3, "10:00:00"), at(3, "10:00:05"), "door_unlocked", "app"),
        (PLANTED_TAP, at(8, "12:00:00"), at(8, "12:00:04"), "nfc_tapped", None),
        ("e" * 32, at(5, "09:00:00"), at(12, "08:00:00"), "door_locked", "app"),
    ]
    card = {"key_id": "a" * 32, "key_type": "card", "radio": "nfc"}
    for event_id, event_at, received_at, event_type, lock_source in planted:
        plant_event(
            lake,
            schema,
            f"planted-{event_id[:4]}.parquet",
            event_id=event_id,
            vin=PLANTED_VIN,
            event_at=event_at,
            received_at=received_at,
            event_type=event_type,
            lock_source=lock_source,
            **(card if event_type == "nfc_tapped" else {}),
        )


def relation_names(db: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [
        r[0]
        for r in db.sql(
            "select table_name from information_schema.tables"
            f" where table_catalog = 'l' and table_schema = '{schema}'"
            " and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
    ]


def differences(left: Path, right: Path, schemas: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """Rows only in left / only in right, per table, over the given schemas.

    Views are skipped: they hold no data of their own, and a copied warehouse
    file cannot resolve them (they name the catalog of the original file).
    """
    db = duckdb.connect()
    db.execute(f"attach '{left}' as l (read_only)")
    db.execute(f"attach '{right}' as r (read_only)")
    out = {}
    for schema in schemas:
        names = relation_names(db, schema)
        assert names, f"no relations in schema {schema}"
        for name in names:
            columns = [
                r[0]
                for r in db.sql(
                    "select column_name from information_schema.columns"
                    f" where table_catalog = 'l' and table_schema = '{schema}'"
                    f" and table_name = '{name}' order by ordinal_position"
                ).fetchall()
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            only_left = db.sql(
                f'select count(*) from (select {select} from l.{schema}."{name}"'
                f' except all select {select} from r.{schema}."{name}")'
            ).fetchone()[0]
            only_right = db.sql(
                f'select count(*) from (select {select} from r.{schema}."{name}"'
                f' except all select {select} from l.{schema}."{name}")'
            ).fetchone()[0]
            out[f"{schema}.{name}"] = (only_left, only_right)
    db.close()
    return out


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("incremental")
    full_lake, inc_lake = root / "full_lake", root / "inc_lake"
    generate_lake(full_lake, vehicles=30, days=DAYS, start_date=START, seed=5)
    plant_late_sessions(full_lake)
    plant_late_lock_state(full_lake)
    plant_repeated_upload(full_lake)

    # the reference: one full build of the whole lake
    full = root / "full.duckdb"
    run_dbt(["build", "--full-refresh"], lake=full_lake, warehouse=full, target_path=root / "t0")

    # delivery 1: the first days, the last of them only half written
    inc = root / "inc.duckdb"
    first = delivery_files(full_lake, None, FIRST_CUT)
    held_back = [f for table in TELEMETRY for f in partitions(full_lake, table)[FIRST_CUT][1::2]]
    assert held_back, "the generator wrote a single file per partition"
    deliver(full_lake, inc_lake, [f for f in first if f not in held_back])
    run_dbt(["build"], lake=inc_lake, warehouse=inc, target_path=root / "t1")
    after_first = root / "after_first_delivery.duckdb"
    shutil.copy2(inc, after_first)
    # delivery 2: the next days and the rest of the half-written partition
    deliver(full_lake, inc_lake, held_back + delivery_files(full_lake, FIRST_CUT, SECOND_CUT))
    run_dbt(["run"], lake=inc_lake, warehouse=inc, target_path=root / "t1")
    after_second = root / "after_second_delivery.duckdb"
    shutil.copy2(inc, after_second)
    # delivery 3: the rest
    deliver(
        full_lake, inc_lake, delivery_files(full_lake, SECOND_CUT, START + dt.timedelta(days=60))
    )
    run_dbt(["run"], lake=inc_lake, warehouse=inc, target_path=root / "t1")

    # the same again with no new data, keeping a copy of the state before
    before = root / "before_rebuild.duckdb"
    shutil.copy2(inc, before)
    run_dbt(["run"], lake=inc_lake, warehouse=inc, target_path=root / "t1")
    return {
        "full": full,
        "incremental": inc,
        "before": before,
        "lake": full_lake,
        "after_first": after_first,
        "after_second": after_second,
        "incremental_target": root / "t1",
    }


def test_the_deliveries_hold_late_rows_for_days_already_built(builds) -> None:
    db = duckdb.connect()
    late = db.sql(
        f"""
        select count(*) from read_parquet('{builds["lake"]}/raw/access_events/*/*.parquet',
            hive_partitioning = true)
        where cast(event_at as date) <= date '{FIRST_CUT}' and ingest_date > date '{FIRST_CUT}'
        """
    ).fetchone()[0]
    assert late > 10


def test_incremental_marts_equal_a_full_refresh_row_for_row(builds) -> None:
    diff = differences(builds["incremental"], builds["full"], ("staging", "marts", "restricted"))
    assert len(diff) >= 25
    assert "staging.base_raw__access_events_later_copies" in diff
    assert {name: d for name, d in diff.items() if d != (0, 0)} == {}


def test_incremental_runs_read_staging_from_a_cutoff_date(builds) -> None:
    """The incremental models' cutoff is a date literal, read before the query, so the
    engine skips staging's older ingest days; as a subquery over the model it read every
    row of staging before filtering."""
    compiled = builds["incremental_target"] / "compiled" / "access_analytics" / "models"
    sessionizer = (compiled / "intermediate" / "int_unlock_attempts_sessionized.sql").read_text()
    assert re.search(r"where ingest_date >= date '\d{4}-\d{2}-\d{2}'", sessionizer)
    # tests, compiled under their YAML file, are not models (unit tests keep the subquery)
    models = [
        path
        for path in compiled.rglob("*.sql")
        if not any(part.endswith(".yml") for part in path.parts)
    ]
    subquery_cutoffs = [path.name for path in models if "date '1900-01-01')" in path.read_text()]
    assert len(models) > 40
    assert subquery_cutoffs == []


def test_a_copy_uploaded_again_after_the_re_read_window_is_a_duplicate(builds) -> None:
    """The day-1 copy stays the kept one; the day-14 copy, ranked by a run that no longer
    re-reads day 1, is a later copy, as in the full build."""
    for build in ("incremental", "full"):
        with duckdb.connect(str(builds[build]), read_only=True) as db:
            kept = db.sql(
                "select source_file from staging.stg_raw__access_events"
                f" where event_id = '{REPEATED_EVENT}'"
            ).fetchall()
            dropped = db.sql(
                "select source_file from staging.stg_raw__access_events_duplicates"
                f" where event_id = '{REPEATED_EVENT}'"
            ).fetchall()
        assert kept == [
            (
                f"raw/access_events/ingest_date={at(1, '09:00:05').date()}"
                "/planted-repeated-first.parquet",
            )
        ], build
        assert dropped == [
            (
                f"raw/access_events/ingest_date={at(14, '06:00:00').date()}"
                "/planted-repeated-again.parquet",
            )
        ], build


def scalar(warehouse: Path, sql: str) -> object:
    with duckdb.connect(str(warehouse), read_only=True) as db:
        return db.sql(sql).fetchone()[0]


def test_a_day_becomes_complete_when_the_next_partitions_arrive(builds) -> None:
    """After the first delivery its newest partition is half written: the day before it
    is not complete yet; later deliveries complete it, as in the full build."""
    day = FIRST_CUT - dt.timedelta(days=1)
    sql = f"select is_complete_day from marts.mart_unlock_daily where metric_date = '{day}'"
    assert scalar(builds["after_first"], sql) is False
    assert scalar(builds["incremental"], sql) is True
    assert scalar(builds["full"], sql) is True
    newest = scalar(builds["full"], "select max(metric_date) from marts.mart_unlock_daily")
    newest_sql = (
        f"select is_complete_day from marts.mart_unlock_daily where metric_date = '{newest}'"
    )
    assert scalar(builds["incremental"], newest_sql) is False


def test_a_late_lock_event_changes_the_intent_of_a_later_tap(builds) -> None:
    sql = f"select tap_intent from marts.fct_card_taps where tap_id = '{PLANTED_TAP}'"
    assert scalar(builds["after_second"], sql) == "lock"
    assert scalar(builds["incremental"], sql) == "unlock"
    assert scalar(builds["full"], sql) == "unlock"


def test_incremental_facts_are_not_empty(builds) -> None:
    db = duckdb.connect(str(builds["incremental"]), read_only=True)
    for name in ("fct_unlock_attempts", "fct_walkaway_episodes", "fct_fob_battery_daily"):
        assert db.sql(f"select count(*) from marts.{name}").fetchone()[0] > 100
    # The rollout monitor follows windows that the late deliveries reach, so the equality
    # with a full refresh covers its cumulative counts and p-values too.
    assert db.sql("select count(*) from marts.mart_firmware_rollout_monitor").fetchone()[0] > 0
    db.close()


def test_a_build_without_new_data_changes_nothing(builds) -> None:
    diff = differences(
        builds["before"], builds["incremental"], ("staging", "marts", "intermediate")
    )
    assert {name: d for name, d in diff.items() if d != (0, 0)} == {}
