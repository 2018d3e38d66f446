"""Staging follows docs/raw-contract.md: every invalid row is quarantined with the first
rule it breaks, every duplicate keeps exactly one copy, nothing is lost, and a lake
that does not match the contract stops the build with an error naming the culprit.

The lake here is written by hand (tests/lake_builder.py), one file per case, so a
quarantined row's source file says which case it is.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import duckdb
import pytest
from lake_builder import write_events, write_partition, write_readings, write_registries

from access_analytics.dbt_runner import DbtError, run_dbt

T0 = dt.datetime(2026, 3, 2, 8, 0, 0)
VIN = "5YJ3E1EA7KF000001"
FOB = "fob-0001"
FIVE_MINUTES = dt.timedelta(minutes=5)
THIRTY_DAYS = dt.timedelta(days=30)
MICROSECOND = dt.timedelta(microseconds=1)


def event(n: int, **overrides) -> dict:
    """A valid event (n makes the id unique); overrides break one thing at a time."""
    row = {
        "event_id": f"{n:032x}",
        "vin": VIN,
        "event_at": T0 + dt.timedelta(seconds=n),
        "received_at": T0 + dt.timedelta(seconds=n, minutes=1),
        "event_type": "key_detected",
        "key_id": "phone-0001",
        "key_type": "phone",
        "radio": "ble",
        "rssi_dbm": -60,
        "firmware_version": "2026.8.1",
    }
    row.update(overrides)
    return row


def reading(n: int, **overrides) -> dict:
    row = {
        "reading_id": f"{n:032x}",
        "vin": VIN,
        "fob_id": FOB,
        "read_at": T0 + dt.timedelta(seconds=n),
        "received_at": T0 + dt.timedelta(seconds=n, minutes=1),
        "voltage_mv": 3000,
        "temperature_c": 20.0,
        "firmware_version": "2026.8.1",
    }
    row.update(overrides)
    return row


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


def write_registry_snapshot(lake: Path) -> None:
    write_registries(
        lake,
        dt.date(2026, 3, 1),
        vehicles=[
            {
                "vin": VIN,
                "model": "Model 3",
                "access_hw": "ble",
                "region": "EU",
                "delivered_on": dt.date(2025, 1, 1),
            }
        ],
        keys=[{"key_id": "phone-0001", "vin": VIN, "key_type": "phone", "paired_at": T0}],
        releases=[
            {"version": "2026.8.1", "released_on": dt.date(2026, 2, 20), "channel": "production"}
        ],
    )


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


# --- a lake that does not match the contract stops the build --------------------------


@pytest.fixture
def good_lake(tmp_path) -> Path:
    lake = tmp_path / "lake"
    write_registry_snapshot(lake)
    write_events(lake, [event(1), event(2)])
    write_readings(lake, [reading(1)])
    return lake


def build_error(lake: Path, tmp_path: Path, select: str = "staging") -> str:
    with pytest.raises(DbtError) as failure:
        run_dbt(
            ["build", "--select", select],
            lake=lake,
            warehouse=tmp_path / "wh.duckdb",
            target_path=tmp_path / "target",
        )
    return str(failure.value)


def build_staging(lake: Path, tmp_path: Path) -> Path:
    """Build and test staging on the lake (it must pass); return the warehouse."""
    warehouse = tmp_path / "wh.duckdb"
    run_dbt(["build", "--select", "staging"], lake=lake, warehouse=warehouse, target_path=tmp_path)
    return warehouse


def test_a_missing_lake_names_the_table(tmp_path):
    message = build_error(tmp_path / "no-such-lake", tmp_path)
    assert "raw table" in message
    assert "no files under" in message


def test_a_corrupt_parquet_file_names_the_file(good_lake, tmp_path):
    folder = good_lake / "raw" / "access_events" / "ingest_date=2026-03-02"
    (folder / "broken.parquet").write_bytes(b"PAR1 this is not a parquet file")
    message = build_error(good_lake, tmp_path)
    assert "broken.parquet" in message
    assert "base_raw__access_events" in message


def test_a_renamed_column_names_the_table_file_and_column(good_lake, tmp_path):
    import pyarrow as pa
    from lake_builder import SCHEMAS

    schema = SCHEMAS["fob_battery_readings"]
    renamed = schema.set(schema.get_field_index("voltage_mv"), pa.field("voltage", pa.int16()))
    row = reading(7)
    row["voltage"] = row.pop("voltage_mv")
    write_partition(
        good_lake, "fob_battery_readings", T0.date(), [row], "renamed.parquet", schema=renamed
    )
    message = build_error(good_lake, tmp_path)
    assert "raw table fob_battery_readings" in message
    assert "renamed.parquet" in message
    assert "column voltage_mv is missing (expected smallint)" in message


def test_a_missing_registry_table_names_it(good_lake, tmp_path):
    import shutil

    shutil.rmtree(good_lake / "raw" / "keys")
    message = build_error(good_lake, tmp_path)
    assert "raw table keys" in message


def test_conservation_fails_when_a_kept_row_disappears(good_lake, tmp_path):
    warehouse = build_staging(good_lake, tmp_path)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "delete from staging.base_raw__access_events"
            " where event_id = ? and row_status = 'kept'",
            [f"{1:032x}"],
        )
    with pytest.raises(DbtError) as failure:
        run_dbt(
            ["test", "--select", "test_name:conservation_of_rows"],
            lake=good_lake,
            warehouse=warehouse,
            target_path=tmp_path / "target",
        )
    assert "conservation_of_rows" in str(failure.value)


def test_every_file_outside_the_layout_is_named_on_its_own_line(good_lake, tmp_path):
    table = good_lake / "raw" / "access_events"
    (table / "at-the-root.parquet").write_bytes(b"x")
    nested = table / "ingest_date=2026-03-02" / "nested"
    nested.mkdir()
    (nested / "deeper.parquet").write_bytes(b"x")
    (table / "ingest_date=2026-03-02" / "SHOUTING.PARQUET").write_bytes(b"x")
    (table / "ingest_date=2026-13-45").mkdir()
    (table / "ingest_date=2026-13-45" / "part.parquet").write_bytes(b"x")
    message = build_error(good_lake, tmp_path)
    assert "raw table access_events: 4 file(s) outside the layout" in message
    for line in (
        "at-the-root.parquet: not directly in a partition folder",
        "nested/deeper.parquet: not directly in a partition folder",
        "SHOUTING.PARQUET: not a <name>.parquet file",
        "ingest_date=2026-13-45 is not a valid date",
    ):
        assert line in message


def test_a_column_stored_with_another_type_names_file_column_and_both_types(good_lake, tmp_path):
    import pyarrow as pa
    from lake_builder import SCHEMAS

    schema = SCHEMAS["access_events"]
    as_text = schema.set(schema.get_field_index("event_at"), pa.field("event_at", pa.string()))
    row = event(9)
    row["event_at"] = str(row["event_at"])
    write_partition(good_lake, "access_events", T0.date(), [row], "text-time.parquet", as_text)
    message = build_error(good_lake, tmp_path)
    assert "text-time.parquet: column event_at expected timestamp, found varchar" in message


def test_a_narrower_integer_is_accepted_and_an_extra_column_is_read_past(good_lake, tmp_path):
    import pyarrow as pa
    from lake_builder import SCHEMAS

    schema = SCHEMAS["access_events"]
    narrow = schema.set(schema.get_field_index("rssi_dbm"), pa.field("rssi_dbm", pa.int8()))
    extra = narrow.append(pa.field("antenna", pa.string()))
    row = event(9) | {"antenna": "front"}
    write_partition(good_lake, "access_events", T0.date(), [row], "narrow.parquet", extra)
    warehouse = build_staging(good_lake, tmp_path)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        kept = connection.execute(
            "select rssi_dbm from staging.stg_raw__access_events where event_id = ?",
            [f"{9:032x}"],
        ).fetchone()
    assert kept == (-60,)


def test_a_day_without_files_is_a_missing_row_and_a_warning_or_an_error(good_lake, tmp_path):
    later = T0 + dt.timedelta(days=2)
    write_events(good_lake, [event(30, event_at=later, received_at=later)], "two-days-on.parquet")
    completed = run_dbt(
        ["build"], lake=good_lake, warehouse=tmp_path / "wh.duckdb", target_path=tmp_path / "t"
    )
    assert "WARN" in completed.stdout and "no_missing_ingest_day" in completed.stdout
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as connection:
        missing = connection.execute(
            "select table_name, ingest_date, rows_read from marts.mart_data_quality_daily"
            " where is_missing_day"
        ).fetchall()
    assert missing == [("access_events", (T0 + dt.timedelta(days=1)).date(), 0)]
    with pytest.raises(DbtError) as failure:
        run_dbt(
            [
                "test",
                "--select",
                "no_missing_ingest_day",
                "--vars",
                "{missing_ingest_day_severity: error}",
            ],
            lake=good_lake,
            warehouse=tmp_path / "wh.duckdb",
            target_path=tmp_path / "t",
        )
    assert "no_missing_ingest_day" in str(failure.value)
