"""The telemetry generator: what a generated lake promises (docs/raw-contract.md, docs/metrics.md).

A small lake with raised fault rates is generated once per module; each test reads it back
with pyarrow or DuckDB and checks one promise. Contract rules are re-implemented here in
SQL, independently of the generator, so a broken row that the generator mislabels fails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from lake_builder import SCHEMAS
from typer.testing import CliRunner

from access_analytics.cli import app
from access_analytics.contract import accepted_values
from access_analytics.generator import GeneratorError, generate_lake
from access_analytics.generator.faults import REASONS

START = dt.date(2026, 3, 2)
DAYS = 12  # long enough for a production and an early-access release
FILES_PER_PARTITION = 3

# The contract's column names and Parquet types, as the tests state them (tests/lake_builder.py).
CONTRACT = {
    table: list(zip(schema.names, schema.types, strict=True)) for table, schema in SCHEMAS.items()
}
TELEMETRY = ("access_events", "fob_battery_readings")
# The event types and lock sources the raw contract lists.
EVENT_TYPES = accepted_values("access_events", "event_type")
LOCK_SOURCES = accepted_values("access_events", "lock_source")


def _list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# The contract's rules in order: the first that applies is the reason.
EVENT_REASON_SQL = f"""
case
    when event_id is null or event_id = '' or vin is null or vin = '' or event_at is null
        or received_at is null or event_type is null or event_type = ''
        or firmware_version is null or firmware_version = '' then 'missing_required'
    when event_type not in ({_list(EVENT_TYPES)}) or key_type not in ('phone', 'fob', 'card')
        or radio not in ('ble', 'uwb', 'nfc', 'lf')
        or lock_source not in ({_list(LOCK_SOURCES)}) then 'unknown_value'
    when not regexp_full_match(vin, '[A-HJ-NPR-Z0-9]{{17}}')
        or not regexp_full_match(event_id, '[0-9a-f]{{32}}') then 'malformed_id'
    when rssi_dbm not between -127 and 20 or distance_m not between 0 and 100 then 'out_of_range'
    when event_at > received_at + interval 5 minute then 'future_event'
    when event_at < received_at - interval 30 day then 'too_late'
end
"""
READING_REASON_SQL = """
case
    when reading_id is null or reading_id = '' or vin is null or vin = '' or fob_id is null
        or fob_id = '' or read_at is null or received_at is null or voltage_mv is null
        or firmware_version is null or firmware_version = '' then 'missing_required'
    when not regexp_full_match(vin, '[A-HJ-NPR-Z0-9]{17}')
        or not regexp_full_match(reading_id, '[0-9a-f]{32}') then 'malformed_id'
    when voltage_mv not between 1800 and 3400 or temperature_c not between -40 and 60
        then 'out_of_range'
    when read_at > received_at + interval 5 minute then 'future_event'
    when read_at < received_at - interval 30 day then 'too_late'
end
"""


def _generate_small(lake: Path, **overrides: object) -> dict:
    options: dict = {
        "vehicles": 40,
        "days": DAYS,
        "start_date": START,
        "seed": 11,
        "duplicate_rate": 0.05,
        "late_rate": 0.05,
        "very_late_rate": 0.02,
        "invalid_rate": 0.02,
        "skew_rate": 0.05,
        "unknown_firmware_rate": 0.05,
        "files_per_partition": FILES_PER_PARTITION,
    }
    options.update(overrides)
    return generate_lake(lake, **options)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    _generate_small(root)
    return root


@pytest.fixture(scope="module")
def manifest(lake: Path) -> dict:
    return json.loads((lake / "manifest.json").read_text())


@pytest.fixture(scope="module")
def db(lake: Path) -> duckdb.DuckDBPyConnection:
    """Raw tables as views (+ ingest_date, source_file, reason), newest registry snapshots."""
    con = duckdb.connect()
    for table, reason_sql in (
        ("access_events", EVENT_REASON_SQL),
        ("fob_battery_readings", READING_REASON_SQL),
    ):
        con.execute(
            f"""
            create view {table} as
            select *, {reason_sql} as reason
            from read_parquet('{lake}/raw/{table}/*/*.parquet', hive_partitioning = true,
                              hive_types = {{'ingest_date': date}}, filename = 'source_file')
            """
        )
    for table in ("vehicles", "keys", "firmware_releases"):
        source = f"read_parquet('{lake}/raw/{table}/*/*.parquet', hive_partitioning = true)"
        con.execute(
            f"""create view {table} as select * exclude (snapshot_date) from {source}
            where snapshot_date = (select max(snapshot_date) from {source})"""
        )
    return con


def _values(con: duckdb.DuckDBPyConnection, sql: str) -> set:
    return {row[0] for row in con.execute(sql).fetchall()}


def _files(lake: Path) -> list[Path]:
    return sorted(p for p in lake.rglob("*") if p.is_file())


def _digest(lake: Path) -> dict[str, str]:
    return {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest() for p in _files(lake)
    }


# --- layout and types ------------------------------------------------------------------------


@pytest.mark.parametrize("table", list(CONTRACT))
def test_every_file_has_exactly_the_contract_columns_and_types(lake: Path, table: str) -> None:
    files = sorted((lake / "raw" / table).glob("*/*.parquet"))
    assert files
    for path in files:
        schema = pq.read_schema(path)
        assert list(zip(schema.names, schema.types, strict=True)) == CONTRACT[table], path


def test_timestamps_are_parquet_micros_without_time_zone(lake: Path) -> None:
    path = next((lake / "raw" / "access_events").glob("*/*.parquet"))
    schema = pq.ParquetFile(path).schema
    for name in ("event_at", "received_at"):
        column = schema.column(schema.names.index(name))
        assert column.physical_type == "INT64"
        assert "isAdjustedToUTC=false" in str(column.logical_type)
        assert "timeUnit=microseconds" in str(column.logical_type)


def test_lake_has_hive_partitions_and_nothing_else(lake: Path) -> None:
    partition_key = {t: "ingest_date" for t in TELEMETRY} | {
        t: "snapshot_date" for t in ("vehicles", "keys", "firmware_releases")
    }
    assert sorted(p.name for p in (lake / "raw").iterdir()) == sorted(CONTRACT)
    for path in _files(lake / "raw"):
        table, partition, name = path.relative_to(lake / "raw").parts
        key, _, value = partition.partition("=")
        assert key == partition_key[table]
        dt.date.fromisoformat(value)
        assert name.endswith(".parquet")


def test_telemetry_partitions_hold_several_files(lake: Path) -> None:
    for table in TELEMETRY:
        counts = [len(list(p.iterdir())) for p in (lake / "raw" / table).iterdir()]
        busy = [c for c in counts if c > 1]
        assert max(counts) == FILES_PER_PARTITION
        assert len(busy) >= DAYS - 1, (table, counts)


def test_ingest_date_is_the_utc_date_of_received_at(db: duckdb.DuckDBPyConnection) -> None:
    for table in TELEMETRY:
        wrong, checked = db.execute(
            f"""select count(*) filter (where received_at::date <> ingest_date), count(received_at)
            from {table}"""
        ).fetchone()
        assert checked > 0
        assert wrong == 0, table


def test_registry_snapshots_cover_the_last_day(lake: Path, manifest: dict) -> None:
    last = (START + dt.timedelta(days=DAYS - 1)).isoformat()
    for table in ("vehicles", "keys", "firmware_releases"):
        dates = sorted(p.name.split("=")[1] for p in (lake / "raw" / table).iterdir())
        assert dates[-1] == last
        assert len(dates) >= 2  # older snapshots exist too
    assert manifest["date_range"]["newest_snapshot_date"] == last


# --- determinism -----------------------------------------------------------------------------


def test_same_seed_and_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    _generate_small(tmp_path / "a", vehicles=12, days=3)
    _generate_small(tmp_path / "b", vehicles=12, days=3)
    first, second = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert len(first) > 10
    assert first == second


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    _generate_small(tmp_path / "a", vehicles=12, days=3, seed=1)
    _generate_small(tmp_path / "b", vehicles=12, days=3, seed=2)
    first, second = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    shared = set(first) & set(second)
    assert shared
    assert all(first[p] != second[p] for p in shared if p.endswith(".parquet"))


# --- registries ------------------------------------------------------------------------------


def test_registries_hold_valid_enums_and_every_referenced_key(
    db: duckdb.DuckDBPyConnection,
) -> None:
    assert _values(db, "select model from vehicles") <= {
        "Model 3", "Model Y", "Model S", "Model X", "Cybertruck",
    }  # fmt: skip
    assert _values(db, "select access_hw from vehicles") == {"ble", "ble_uwb"}
    assert _values(db, "select region from vehicles") == {"NA", "EU", "APAC", "CN"}
    assert _values(db, "select channel from firmware_releases") == {"production", "early_access"}
    assert _values(db, "select key_type from keys") == {"phone", "fob", "card"}
    versions = _values(db, "select version from firmware_releases")
    assert all(re.fullmatch(r"20\d\d\.[1-9]\d*\.(0|[1-9]\d*)", v) for v in versions)
    assert _values(db, "select key_type from keys where cell_lot is not null") == {"fob"}
    assert _values(db, "select cell_lot is null from keys where key_type = 'fob'") == {False}
    valid = "from access_events where reason is null"
    assert _values(db, f"select count(*) {valid} and vin not in (select vin from vehicles)") == {0}
    unknown_keys = f"{valid} and key_id is not null and key_id not in (select key_id from keys)"
    assert _values(db, f"select count(*) {unknown_keys}") == {0}
    # a key's type in the events is its type in the registry
    assert _values(
        db,
        f"""select count(*) {valid} and key_id is not null
        and key_type <> (select k.key_type from keys k where k.key_id = access_events.key_id)""",
    ) == {0}


# --- realistic content -----------------------------------------------------------------------


def test_every_event_type_lock_source_and_reason_code_occurs(
    db: duckdb.DuckDBPyConnection,
) -> None:
    valid = "from access_events where reason is null"
    assert _values(db, f"select event_type {valid}") == set(EVENT_TYPES)
    assert _values(db, f"select radio {valid} and radio is not null") == {"ble", "uwb", "nfc", "lf"}
    assert _values(db, f"select lock_source {valid} and event_type = 'door_unlocked'") == {
        "passive", "card", "app",
    }  # fmt: skip
    assert _values(db, f"select lock_source {valid} and event_type = 'door_locked'") == {
        "walkaway", "app", "fob_button", "card", "drive_away",
    }  # fmt: skip
    assert _values(db, f"select detail {valid} and event_type = 'walkaway_suppressed'") == {
        "key_inside", "door_ajar", "home_exclusion", "feature_disabled",
    }  # fmt: skip
    assert _values(db, f"select detail {valid} and event_type = 'auth_failed'") >= {
        "timeout", "bad_mac", "relay_suspected",
    }  # fmt: skip
    assert _values(db, f"select count(*) {valid} and lock_source is not null and event_type "
                   "not in ('door_unlocked', 'door_locked')") == {0}  # fmt: skip


def test_signal_columns_follow_the_radio(db: duckdb.DuckDBPyConnection) -> None:
    valid = "from access_events where reason is null"
    assert _values(db, f"select radio {valid} and rssi_dbm is not null") == {"ble"}
    assert _values(db, f"select radio {valid} and distance_m is not null") == {"uwb"}
    assert _values(db, f"select count(*) {valid} and key_id is null and (key_type is not null "
                   "or radio is not null)") == {0}  # fmt: skip
    ble_only_uwb = db.execute(
        f"""select count(*) {valid} and radio = 'uwb'
        and vin in (select vin from vehicles where access_hw = 'ble')"""
    ).fetchone()[0]
    assert ble_only_uwb == 0


def _attempts(db: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """Passive-entry attempts of docs/metrics.md, on valid de-duplicated rows (simplified)."""
    return db.sql(
        """
        with kept as (
            select * from access_events where reason is null
            qualify row_number() over (partition by event_id order by received_at, source_file) = 1
        ),
        numbered as (
            select *, count(*) filter (where event_type = 'unlock_zone_entered') over (
                partition by vin order by event_at, event_id rows unbounded preceding) as attempt
            from kept
        ),
        attempts as (
            select
                vin, attempt,
                min(event_at) filter (where event_type = 'unlock_zone_entered') as started_at,
                list(struct_pack(t := event_at, e := event_type, s := lock_source)) as events,
            from numbered where attempt > 0 group by all
        )
        select
            *,
            list_min(list_transform(list_filter(events, x -> x.e = 'door_unlocked'
                and x.s = 'passive' and x.t <= started_at + interval 30 second), x -> x.t))
                as unlocked_at,
            list_min(list_transform(list_filter(events, x -> x.e = 'handle_pulled'), x -> x.t))
                as handle_at,
            list_min(list_transform(list_filter(events, x -> x.e = 'door_unlocked'
                and x.s = 'passive'), x -> x.t)) as any_passive_at,
        from attempts
        """
    )


def test_unlock_attempts_have_fast_slow_and_timed_out_outcomes(
    db: duckdb.DuckDBPyConnection,
) -> None:
    relation = _attempts(db)
    stats = relation.aggregate(
        """count(*) as attempts,
        count(unlocked_at) as unlocked,
        count(*) filter (where handle_at < unlocked_at) as handle_waits,
        count(*) filter (where unlocked_at is null and any_passive_at is not null) as late_passive,
        count(*) filter (where unlocked_at > started_at + interval 3 second) as slow_tail,
        """
    ).fetchone()
    attempts, unlocked, handle_waits, late_passive, slow_tail = stats
    # 3-6 attempts per vehicle-day for phone and fob trips
    assert 40 * DAYS * 2.5 < attempts < 40 * DAYS * 6
    assert 0.95 < unlocked / attempts < 0.999
    assert handle_waits > 0
    assert late_passive > 0  # a passive unlock after the 30 s window: a time-out
    assert slow_tail > 0


def test_uwb_unlocks_are_faster_than_ble(db: duckdb.DuckDBPyConnection) -> None:
    medians = dict(
        db.execute(
            """
            with z as (select vin, event_at, radio from access_events
                       where reason is null and event_type = 'unlock_zone_entered'),
            u as (select vin, event_at from access_events where reason is null
                  and event_type = 'door_unlocked' and lock_source = 'passive')
            select z.radio, median(date_diff('millisecond', z.event_at, u.event_at))
            from z asof join u on z.vin = u.vin and u.event_at >= z.event_at
            where u.event_at <= z.event_at + interval 3 second
            group by all
            """
        ).fetchall()
    )
    assert medians["uwb"] < medians["lf"] < medians["ble"]


def test_walkaway_episodes_lock_in_time_late_and_not_at_all(
    db: duckdb.DuckDBPyConnection,
) -> None:
    outcomes = dict(
        db.execute(
            """
            with v as (select * from access_events where reason is null),
            exits as (select vin, event_at from v where event_type = 'lock_zone_exited'),
            ends as (select vin, event_at, event_type, lock_source from v where event_type in
                     ('door_locked', 'walkaway_suppressed', 'unlock_zone_entered',
                      'lock_zone_exited'))
            select case
                when e.event_at is null or e.event_at > x.event_at + interval 600 second
                    or e.event_type in ('unlock_zone_entered', 'lock_zone_exited') then 'not_locked'
                when e.event_type = 'walkaway_suppressed' then 'suppressed'
                when e.lock_source <> 'walkaway' then 'manual_lock'
                when e.event_at <= x.event_at + interval 5 second then 'locked'
                else 'locked_late' end as outcome, count(*)
            from exits x asof left join ends e on e.vin = x.vin and e.event_at > x.event_at
            group by all
            """
        ).fetchall()
    )
    assert set(outcomes) == {"locked", "locked_late", "manual_lock", "suppressed", "not_locked"}
    assert outcomes["locked"] > 0.8 * sum(outcomes.values())


def test_fob_voltage_is_lower_in_the_cold(db: duckdb.DuckDBPyConnection) -> None:
    cold, warm = db.execute(
        """select avg(voltage_mv) filter (where temperature_c < 5),
                  avg(voltage_mv) filter (where temperature_c > 15)
        from fob_battery_readings where reason is null"""
    ).fetchone()
    assert cold < warm


# --- faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize("table", TELEMETRY)
def test_invalid_rows_carry_every_reason_the_manifest_announces(
    db: duckdb.DuckDBPyConnection, manifest: dict, table: str
) -> None:
    found = dict(db.execute(f"select reason, count(*) from {table} group by all").fetchall())
    found.pop(None)
    expected = {r: n for r, n in manifest["tables"][table]["invalid_rows_by_reason"].items() if n}
    assert found == expected
    # readings have no enum column, so unknown_value cannot apply to them
    wanted = set(REASONS) if table == "access_events" else set(REASONS) - {"unknown_value"}
    assert set(found) == wanted


def test_breakage_includes_empty_strings_wrong_case_and_multiple_reasons(
    db: duckdb.DuckDBPyConnection,
) -> None:
    empty = db.execute(
        "select count(*) from access_events where event_id = '' or vin = '' or event_type = '' "
        "or firmware_version = ''"
    ).fetchone()[0]
    assert empty > 0
    lowered = f"lower(event_type) in ({_list(EVENT_TYPES)})"
    wrong_case = _values(db, f"select event_type from access_events where {lowered}")
    assert wrong_case - set(EVENT_TYPES)
    several = db.execute(
        f"""select count(*) from access_events where reason = 'missing_required' and (
            radio not in ('ble', 'uwb', 'nfc', 'lf')
            or lock_source not in ({_list(LOCK_SOURCES)})
            or key_type not in ('phone', 'fob', 'card')
            or not regexp_full_match(vin, '[A-HJ-NPR-Z0-9]{{17}}')
            or rssi_dbm not between -127 and 20 or distance_m not between 0 and 100
            or event_at > received_at + interval 5 minute
            or event_at < received_at - interval 30 day)
        or reason in ('unknown_value', 'malformed_id') and (
            rssi_dbm not between -127 and 20 or distance_m not between 0 and 100
            or event_at > received_at + interval 5 minute
            or event_at < received_at - interval 30 day)"""
    ).fetchone()[0]
    assert several > 0


def test_values_on_the_contract_bounds_stay_valid(db: duckdb.DuckDBPyConnection) -> None:
    on_bounds = db.execute(
        """select count(*) filter (where rssi_dbm in (-127, 20)),
                  count(*) filter (where distance_m in (0, 100)),
                  count(*) filter (where event_at = received_at + interval 5 minute
                                   or event_at = received_at - interval 30 day)
        from access_events where reason is null"""
    ).fetchone()
    assert all(n > 0 for n in on_bounds)


@pytest.mark.parametrize(("table", "key"), [("access_events", "event_id"), (
    "fob_battery_readings", "reading_id")])  # fmt: skip
def test_duplicates_repeat_the_content_in_the_same_file_and_in_later_partitions(
    db: duckdb.DuckDBPyConnection, manifest: dict, table: str, key: str
) -> None:
    columns = [c for c, _ in CONTRACT[table] if c not in (key, "received_at")]
    same = " and ".join(f"a.{c} is not distinct from b.{c}" for c in columns)
    copies, differing, same_file, later_partition = db.execute(
        f"""
        with numbered as (
            select *, row_number() over (partition by {key} order by received_at, source_file)
                as copy_number
            from {table} where {key} <> '' and {key} in (
                select {key} from {table} group by 1 having count(*) > 1)
        )
        select count(*), count(*) filter (where not ({same})),
            count(*) filter (where a.source_file = b.source_file),
            count(*) filter (where b.ingest_date > a.ingest_date)
        from numbered a join numbered b on a.{key} = b.{key} and a.copy_number = 1
            and b.copy_number > 1
        """
    ).fetchone()
    assert copies == manifest["tables"][table]["duplicate_copies"] > 0
    assert differing == 0
    assert later_partition > 0
    if table == "access_events":
        assert same_file > 0


def test_late_and_skewed_rows_are_present(db: duckdb.DuckDBPyConnection) -> None:
    late_1h, late_24h, ahead = db.execute(
        """select count(*) filter (where received_at > event_at + interval 1 hour),
                  count(*) filter (where received_at > event_at + interval 24 hour),
                  count(*) filter (where event_at > received_at)
        from access_events where reason is null"""
    ).fetchone()
    assert late_24h > 0
    assert late_1h > late_24h
    assert ahead > 0  # vehicle clock slightly ahead: valid
    stale = db.execute(
        """select count(*) from access_events where reason is null
        and ingest_date > event_at::date + 1"""
    ).fetchone()[0]
    assert stale > 0  # late rows land in a later partition than their event


def test_some_events_carry_a_firmware_version_missing_from_the_registry(
    db: duckdb.DuckDBPyConnection, manifest: dict
) -> None:
    unknown = db.execute(
        """select count(*) from access_events where reason is null
        and firmware_version not in (select version from firmware_releases)"""
    ).fetchone()[0]
    assert unknown > 0
    assert manifest["tables"]["access_events"]["unknown_firmware_rows"] >= unknown


# --- manifest --------------------------------------------------------------------------------


def test_manifest_records_parameters_counts_and_stories(
    db: duckdb.DuckDBPyConnection, manifest: dict
) -> None:
    assert manifest["parameters"]["vehicles"] == 40
    assert manifest["parameters"]["seed"] == 11
    assert manifest["parameters"]["start_date"] == START.isoformat()
    for table in TELEMETRY:
        rows = db.execute(f"select count(*) from {table}").fetchone()[0]
        assert manifest["tables"][table]["rows"] == rows
    assert manifest["tables"]["vehicles"]["rows"] == 40
    stories = {s["id"]: s for s in manifest["stories"]}
    regression = stories["firmware_uwb_latency_regression"]
    channels = dict(db.execute("select version, channel from firmware_releases").fetchall())
    assert channels[regression["version"]] == "production"
    assert regression["region"] == "EU"
    assert regression["radio"] == "uwb"
    flagged = [r["version"] for r in manifest["firmware"]["releases"] if r["regresses"]]
    assert flagged == [regression["version"]]
    lot = stories["fast_draining_cell_lot"]["cell_lot"]
    assert re.fullmatch(r"L20\d\d-\d\d[A-Z]", lot)
    assert stories["home_exclusion_region"]["region"] == "NA"


def test_the_demo_fleet_plants_one_firmware_regression_and_a_fast_draining_lot(
    tmp_path: Path,
) -> None:
    """The default demo lake (400 cars, 60 days): the release-health rule of docs/metrics.md
    flags the planted release and no other, and the planted lot drains fastest."""
    manifest = generate_lake(tmp_path, seed=42)
    con = duckdb.connect()
    con.execute(
        f"""create view ev as select * from read_parquet(
            '{tmp_path}/raw/access_events/*/*.parquet', filename = 'source_file')
        where {EVENT_REASON_SQL} is null
        qualify row_number() over (partition by event_id order by received_at, source_file) = 1"""
    )
    releases = (
        f"read_parquet('{tmp_path}/raw/firmware_releases/snapshot_date="
        f"{manifest['date_range']['newest_snapshot_date']}/*.parquet')"
    )
    rows = con.execute(
        f"""
        with numbered as (
            select *, count(*) filter (where event_type = 'unlock_zone_entered') over (
                partition by vin order by event_at, event_id rows unbounded preceding) as attempt
            from ev
        ),
        attempts as (
            select vin, attempt,
                min(event_at) filter (where event_type = 'unlock_zone_entered') as started_at,
                any_value(firmware_version) filter (where event_type = 'unlock_zone_entered')
                    as version,
                min(event_at) filter (where event_type = 'door_unlocked'
                    and lock_source = 'passive') as unlocked_at,
            from numbered where attempt > 0 group by all
        ),
        scored as (
            select version, started_at::date as day,
                case when unlocked_at <= started_at + interval 30 second
                    then date_diff('millisecond', started_at, unlocked_at) end as latency_ms
            from attempts
        ),
        registry as (
            select version, lag(version) over (order by released_on) as predecessor
            from {releases}
        ),
        windows as (
            select r.version, r.predecessor, min(s.day) as first_day
            from registry r join scored s using (version)
            where r.predecessor is not null group by all
        )
        select w.version,
            count(*) filter (where s.version = w.version) as n_new,
            count(*) filter (where s.version = w.predecessor) as n_prev,
            quantile_cont(latency_ms, 0.95) filter (where s.version = w.version)
              / quantile_cont(latency_ms, 0.95) filter (where s.version = w.predecessor) - 1
        from windows w join scored s
            on s.day between w.first_day and w.first_day + 13
            and s.version in (w.version, w.predecessor)
        group by all
        """
    ).fetchall()
    flagged = {
        v for v, n_new, n_prev, change in rows if min(n_new, n_prev) >= 1000 and change >= 0.1
    }
    compared = [v for v, n_new, n_prev, _ in rows if min(n_new, n_prev) >= 1000]
    assert flagged == {manifest["stories"][0]["version"]}
    assert len(compared) >= 2

    fast_lot = manifest["stories"][1]["cell_lot"]
    drains = dict(
        con.execute(
            f"""
            with daily as (
                select fob_id, read_at::date as day,
                    median(voltage_mv + coalesce(1.5 * (25 - temperature_c), 0)) as comp
                from read_parquet('{tmp_path}/raw/fob_battery_readings/*/*.parquet')
                where {READING_REASON_SQL} is null group by all
            ),
            slopes as (
                select fob_id, regr_slope(comp, day - date '2026-01-01') as drain
                from daily group by all having count(*) >= 7
            )
            select cell_lot, median(drain)
            from slopes join read_parquet('{tmp_path}/raw/keys/*/*.parquet') on key_id = fob_id
            group by all having count(*) >= 5
            """
        ).fetchall()
    )
    assert min(drains, key=drains.get) == fast_lot
    others = [d for lot, d in drains.items() if lot != fast_lot]
    assert drains[fast_lot] < 2.5 * max(others)  # max of negative slopes: the slowest drain


# --- Python API and command line ------------------------------------------------------------


def test_generate_lake_refuses_a_non_empty_directory_unless_overwrite(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(GeneratorError, match="not empty"):
        generate_lake(tmp_path, vehicles=3, days=1)
    generate_lake(tmp_path, vehicles=3, days=1, overwrite=True)
    generate_lake(tmp_path, vehicles=3, days=1, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert (tmp_path / "manifest.json").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--vehicles", "-5"], "--vehicles must be between 1"),
        (["--vehicles", "0"], "--vehicles must be between 1"),
        (["--days", "0"], "--days must be between 1"),
        (["--start-date", "2026-02-30"], "--start-date must be a date"),
        (["--start-date", "yesterday"], "--start-date must be a date"),
        (["--duplicate-rate", "1.5"], "--duplicate-rate must be between 0 and 1"),
        (["--invalid-rate", "-0.1"], "--invalid-rate must be between 0 and 1"),
        (["--unknown-firmware-rate", "2"], "--unknown-firmware-rate must be between 0 and 1"),
        (["--files-per-partition", "0"], "--files-per-partition must be between 1"),
    ],
)
def test_cli_rejects_bad_arguments_with_one_line(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, ["generate", "--lake", str(tmp_path / "lake"), *arguments])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not (tmp_path / "lake").exists()


def test_cli_rejects_unusable_lake_directories(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = CliRunner().invoke(app, ["generate", "--lake", str(blocker / "lake")])
    assert result.exit_code == 2
    assert "not writable" in result.output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    result = CliRunner().invoke(app, ["generate", "--lake", str(tmp_path / "full")])
    assert result.exit_code == 2
    assert "not empty" in result.output and "--overwrite" in result.output


def test_cli_entry_point_generates_a_lake(tmp_path: Path) -> None:
    command = [
        str(Path(sys.executable).parent / "access-analytics"),
        "generate", "--lake", str(tmp_path), "--vehicles", "5", "--days", "2", "--quiet",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "manifest.json").read_text())["parameters"]["days"] == 2
    bad = subprocess.run([*command, "--overwrite", "--late-rate", "7"], capture_output=True,
                         text=True, check=False)  # fmt: skip
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert bad.stderr.strip() == "Error: --late-rate must be between 0 and 1, got 7.0"
