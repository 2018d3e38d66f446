"""Staging follows docs/raw-contract.md: every invalid row is quarantined with the first
rule it breaks, every duplicate keeps exactly one copy, and nothing is lost.

The lake here is written by hand (tests/lake_builder.py), one file per case, so a
quarantined row's source file says which case it is. A lake that does not match the
contract (misplaced, mistyped or unreadable files, missing tables or days) is
tests/test_failure_injection.py.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import duckdb
import pytest
from lake_builder import (
    T0,
    event,
    reading,
    write_events,
    write_partition,
    write_readings,
    write_registry_snapshot,
)

from access_analytics.dbt_runner import run_dbt

FIVE_MINUTES = dt.timedelta(minutes=5)
THIRTY_DAYS = dt.timedelta(days=30)
MICROSECOND = dt.timedelta(microseconds=1)


# Each case: (case name, row, expected quarantine reason or None when the row is valid).
EVENT_CASES = [
    ("valid", event(1), None),
    ("null_event_id", event(2, event_id=None), "missing_required"),
    ("empty_event_id", event(3, event_id=""), "missing_required"),
    ("empty_vin", event(4, vin=""), "missing_required"),
    ("null_event_at", event(5, event_at=None), "missing_required"),
    ("null_received_at", event(6, received_at=None, event_at=T0), "missing_required"),
    ("null_event_type", event(7, event_type=None), "missing_required"),
    ("empty_firmware", event(8, firmware_version=""), "missing_required"),
    ("blank_is_not_empty", event(9, firmware_version=" "), None),
    ("null_key", event(10, key_id=None, key_type=None, radio=None, rssi_dbm=None), None),
    ("wrong_case_event_type", event(11, event_type="Door_locked"), "unknown_value"),
    ("unknown_key_type", event(12, key_type="watch"), "unknown_value"),
    ("empty_key_type", event(13, key_type=""), "unknown_value"),
    ("unknown_radio", event(14, radio="wifi"), "unknown_value"),
    (
        "unknown_lock_source",
        event(15, event_type="door_locked", lock_source="remote"),
        "unknown_value",
    ),
    ("lock_source_union", event(16, event_type="door_unlocked", lock_source="walkaway"), None),
    ("free_text_detail", event(17, event_type="auth_failed", detail="anything at all"), None),
    ("vin_with_letter_i", event(18, vin="5YJ3E1EA7KF00000I"), "malformed_id"),
    ("vin_16_chars", event(19, vin="5YJ3E1EA7KF00000"), "malformed_id"),
    ("vin_lowercase", event(20, vin="5yj3e1ea7kf000001"), "malformed_id"),
    ("event_id_uppercase", event(21, event_id="A" * 32), "malformed_id"),
    ("event_id_31_chars", event(22, event_id="a" * 31), "malformed_id"),
    ("rssi_below", event(23, rssi_dbm=-128), "out_of_range"),
    ("rssi_above", event(24, rssi_dbm=21), "out_of_range"),
    ("rssi_bounds", event(25, rssi_dbm=-127), None),
    ("rssi_upper_bound", event(26, rssi_dbm=20), None),
    ("distance_negative", event(27, radio="uwb", rssi_dbm=None, distance_m=-0.5), "out_of_range"),
    ("distance_above", event(28, radio="uwb", rssi_dbm=None, distance_m=100.5), "out_of_range"),
    ("distance_nan", event(29, radio="uwb", rssi_dbm=None, distance_m=math.nan), "out_of_range"),
    ("distance_bounds", event(30, radio="uwb", rssi_dbm=None, distance_m=100.0), None),
    ("future", event(31, event_at=T0 + FIVE_MINUTES + MICROSECOND, received_at=T0), "future_event"),
    ("five_minutes_ahead", event(32, event_at=T0 + FIVE_MINUTES, received_at=T0), None),
    ("too_late", event(33, event_at=T0 - THIRTY_DAYS - MICROSECOND, received_at=T0), "too_late"),
    ("thirty_days_late", event(34, event_at=T0 - THIRTY_DAYS, received_at=T0), None),
    # Several rules broken: the first in contract order wins.
    ("missing_and_unknown", event(35, vin=None, event_type="opened"), "missing_required"),
    ("unknown_and_malformed", event(36, event_type="opened", vin="X"), "unknown_value"),
    ("malformed_and_range", event(37, event_id="Z" * 32, rssi_dbm=99), "malformed_id"),
    (
        "range_and_future",
        event(38, rssi_dbm=99, event_at=T0 + dt.timedelta(hours=1), received_at=T0),
        "out_of_range",
    ),
]

READING_CASES = [
    ("valid", reading(1), None),
    ("null_temperature", reading(2, temperature_c=None), None),
    ("empty_fob_id", reading(3, fob_id=""), "missing_required"),
    ("null_voltage", reading(4, voltage_mv=None), "missing_required"),
    ("null_read_at", reading(5, read_at=None), "missing_required"),
    ("empty_firmware", reading(6, firmware_version=""), "missing_required"),
    ("reading_id_short", reading(7, reading_id="abc"), "malformed_id"),
    ("vin_with_letter_o", reading(8, vin="5YJ3E1EA7KF00000O"), "malformed_id"),
    ("voltage_below", reading(9, voltage_mv=1799), "out_of_range"),
    ("voltage_above", reading(10, voltage_mv=3401), "out_of_range"),
    ("voltage_bounds", reading(11, voltage_mv=1800), None),
    ("temperature_below", reading(12, temperature_c=-40.5), "out_of_range"),
    ("temperature_bounds", reading(13, temperature_c=60.0), None),
    (
        "future",
        reading(14, read_at=T0 + FIVE_MINUTES + MICROSECOND, received_at=T0),
        "future_event",
    ),
    ("too_late", reading(15, read_at=T0 - THIRTY_DAYS - MICROSECOND, received_at=T0), "too_late"),
    ("missing_and_malformed", reading(16, fob_id=None, vin="bad"), "missing_required"),
    ("malformed_and_range", reading(17, reading_id="x", voltage_mv=5000), "malformed_id"),
]


def write_cases(lake: Path) -> None:
    """One partition file per case; rows with no received_at go to the day's partition."""
    for table, cases in (("access_events", EVENT_CASES), ("fob_battery_readings", READING_CASES)):
        for name, row, _ in cases:
            day = (row["received_at"] or T0).date()
            write_partition(lake, table, day, [row], f"case-{name}.parquet")


def write_duplicates(lake: Path) -> None:
    """Copies of the same ids: the earliest received_at wins, then the smallest file path."""
    later = dt.timedelta(days=1)
    first = event(100)
    write_events(lake, [first], "dup-b-first.parquet")
    write_events(
        lake, [first | {"received_at": first["received_at"] + later}], "dup-a-later.parquet"
    )
    tie = event(101)
    write_events(lake, [tie], "dup-z-tie.parquet")
    write_events(lake, [tie], "dup-y-tie.parquet")
    same_file = event(102)
    write_events(lake, [same_file, same_file, same_file], "dup-same-file.parquet")
    # An invalid copy of a valid event is quarantined, never counted as a duplicate.
    valid_copy = event(103)
    write_events(lake, [valid_copy, valid_copy | {"rssi_dbm": 50}], "dup-with-invalid.parquet")
    copy = reading(100)
    write_readings(lake, [copy], "dup-first.parquet")
    write_readings(lake, [copy | {"received_at": copy["received_at"] + later}], "dup-later.parquet")


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """The whole project built and tested (`dbt build`) on the hand-made lake: the
    project accepts any lake that follows the contract, however small."""
    root = tmp_path_factory.mktemp("staging")
    lake = root / "lake"
    write_registry_snapshot(lake)
    write_cases(lake)
    write_duplicates(lake)
    warehouse = root / "warehouse.duckdb"
    run_dbt(
        ["build"],
        lake=lake,
        warehouse=warehouse,
        target_path=root / "target",
    )
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()


def case_outcomes(connection, table: str) -> dict[str, str]:
    """Map each case file to where its row landed: 'kept' or its quarantine reason."""
    model = f"stg_raw__{table}"
    rows = connection.execute(
        f"""
        select source_file, 'kept' from staging.{model}
        union all
        select source_file, quarantine_reason from staging.{model}_quarantine
        """
    ).fetchall()
    return {
        Path(path).name.removeprefix("case-").removesuffix(".parquet"): outcome
        for path, outcome in rows
        if Path(path).name.startswith("case-")
    }


@pytest.mark.parametrize(("name", "row", "expected"), EVENT_CASES, ids=[c[0] for c in EVENT_CASES])
def test_each_access_event_lands_where_the_contract_says(staged, name, row, expected):
    assert case_outcomes(staged, "access_events")[name] == (expected or "kept")


@pytest.mark.parametrize(
    ("name", "row", "expected"), READING_CASES, ids=[c[0] for c in READING_CASES]
)
def test_each_battery_reading_lands_where_the_contract_says(staged, name, row, expected):
    assert case_outcomes(staged, "fob_battery_readings")[name] == (expected or "kept")


def kept_and_dropped(connection, event_id: str) -> tuple[list[str], list[str]]:
    kept = connection.execute(
        "select source_file from staging.stg_raw__access_events where event_id = ?", [event_id]
    ).fetchall()
    dropped = connection.execute(
        "select source_file from staging.stg_raw__access_events_duplicates where event_id = ?",
        [event_id],
    ).fetchall()
    return [Path(p).name for (p,) in kept], sorted(Path(p).name for (p,) in dropped)


def test_a_duplicate_keeps_the_earliest_received_copy(staged):
    kept, dropped = kept_and_dropped(staged, f"{100:032x}")
    assert kept == ["dup-b-first.parquet"]
    assert dropped == ["dup-a-later.parquet"]


def test_received_at_ties_keep_the_copy_from_the_smallest_file_path(staged):
    kept, dropped = kept_and_dropped(staged, f"{101:032x}")
    assert kept == ["dup-y-tie.parquet"]
    assert dropped == ["dup-z-tie.parquet"]


def test_copies_in_one_file_keep_exactly_one(staged):
    kept, dropped = kept_and_dropped(staged, f"{102:032x}")
    assert kept == ["dup-same-file.parquet"]
    assert dropped == ["dup-same-file.parquet"] * 2


def test_validation_comes_before_deduplication(staged):
    kept, dropped = kept_and_dropped(staged, f"{103:032x}")
    assert kept == ["dup-with-invalid.parquet"]
    assert dropped == []
    reason = staged.execute(
        "select quarantine_reason from staging.stg_raw__access_events_quarantine "
        "where event_id = ?",
        [f"{103:032x}"],
    ).fetchall()
    assert reason == [("out_of_range",)]


def test_duplicate_readings_keep_one_copy(staged):
    kept = staged.execute(
        "select count(*) from staging.stg_raw__fob_battery_readings where reading_id = ?",
        [f"{100:032x}"],
    ).fetchone()
    dropped = staged.execute(
        "select count(*) from staging.stg_raw__fob_battery_readings_duplicates "
        "where reading_id = ?",
        [f"{100:032x}"],
    ).fetchone()
    assert (kept[0], dropped[0]) == (1, 1)


def test_every_raw_row_is_accounted_for(staged, tmp_path):
    for table in ("access_events", "fob_battery_readings"):
        model = f"stg_raw__{table}"
        lake_rows = staged.execute(f"select count(*) from staging.base_raw__{table}").fetchone()[0]
        accounted = staged.execute(
            f"""
            select (select count(*) from staging.{model})
                + (select count(*) from staging.{model}_duplicates)
                + (select count(*) from staging.{model}_quarantine)
            """
        ).fetchone()[0]
        assert lake_rows == accounted > 0
