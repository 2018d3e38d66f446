"""Write tiny hand-made lakes that follow the raw contract (docs/raw-contract.md), row by row.

Tests use it to put exactly the rows a rule needs into a lake, independent of
the generator, so the dbt project is checked against the contract itself:
`event` and `reading` give one valid row (overrides break one thing at a time),
`write_registry_snapshot` the registries those rows need.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

TIMESTAMP = pa.timestamp("us")

T0 = dt.datetime(2026, 3, 2, 8, 0, 0)
VIN = "5YJ3E1EA7KF000001"
FOB = "fob-0001"

SCHEMAS: dict[str, pa.Schema] = {
    "access_events": pa.schema(
        [
            ("event_id", pa.string()),
            ("vin", pa.string()),
            ("event_at", TIMESTAMP),
            ("received_at", TIMESTAMP),
            ("event_type", pa.string()),
            ("key_id", pa.string()),
            ("key_type", pa.string()),
            ("radio", pa.string()),
            ("rssi_dbm", pa.int16()),
            ("distance_m", pa.float32()),
            ("lock_source", pa.string()),
            ("detail", pa.string()),
            ("firmware_version", pa.string()),
        ]
    ),
    "fob_battery_readings": pa.schema(
        [
            ("reading_id", pa.string()),
            ("vin", pa.string()),
            ("fob_id", pa.string()),
            ("read_at", TIMESTAMP),
            ("received_at", TIMESTAMP),
            ("voltage_mv", pa.int16()),
            ("temperature_c", pa.float32()),
            ("firmware_version", pa.string()),
        ]
    ),
    "vehicles": pa.schema(
        [
            ("vin", pa.string()),
            ("model", pa.string()),
            ("access_hw", pa.string()),
            ("region", pa.string()),
            ("delivered_on", pa.date32()),
        ]
    ),
    "keys": pa.schema(
        [
            ("key_id", pa.string()),
            ("vin", pa.string()),
            ("key_type", pa.string()),
            ("paired_at", TIMESTAMP),
            ("cell_lot", pa.string()),
        ]
    ),
    "firmware_releases": pa.schema(
        [
            ("version", pa.string()),
            ("released_on", pa.date32()),
            ("channel", pa.string()),
        ]
    ),
}

PARTITION_COLUMN = {
    "access_events": "ingest_date",
    "fob_battery_readings": "ingest_date",
    "vehicles": "snapshot_date",
    "keys": "snapshot_date",
    "firmware_releases": "snapshot_date",
}


def write_partition(
    lake: Path,
    table: str,
    partition: dt.date,
    rows: Iterable[Mapping[str, Any]],
    file_name: str = "part-0.parquet",
    schema: pa.Schema | None = None,
) -> Path:
    """Write rows as one Parquet file of one partition; missing keys are null."""
    schema = schema or SCHEMAS[table]
    rows = list(rows)
    columns = {field.name: [row.get(field.name) for row in rows] for field in schema}
    folder = lake / "raw" / table / f"{PARTITION_COLUMN[table]}={partition.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name
    pq.write_table(pa.table(columns, schema=schema), path)
    return path


def write_events(lake: Path, rows: Iterable[Mapping[str, Any]], file_name: str = "part-0.parquet"):
    """Write access events, each into the partition of its received_at's UTC date."""
    _write_by_ingest_date(lake, "access_events", rows, file_name)


def write_readings(
    lake: Path, rows: Iterable[Mapping[str, Any]], file_name: str = "part-0.parquet"
):
    """Write fob battery readings, each into the partition of its received_at's UTC date."""
    _write_by_ingest_date(lake, "fob_battery_readings", rows, file_name)


def _write_by_ingest_date(lake, table, rows, file_name):
    by_day: dict[dt.date, list] = {}
    for row in rows:
        by_day.setdefault(row["received_at"].date(), []).append(row)
    for day, day_rows in by_day.items():
        write_partition(lake, table, day, day_rows, file_name)


def write_registries(
    lake: Path,
    snapshot: dt.date,
    vehicles: Iterable[Mapping[str, Any]],
    keys: Iterable[Mapping[str, Any]],
    releases: Iterable[Mapping[str, Any]],
) -> None:
    """Write one full snapshot of the three registries."""
    write_partition(lake, "vehicles", snapshot, vehicles)
    write_partition(lake, "keys", snapshot, keys)
    write_partition(lake, "firmware_releases", snapshot, releases)


def event(n: int, **overrides) -> dict:
    """A valid access event (n makes the id unique); overrides break one thing at a time."""
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
    """A valid fob battery reading (n makes the id unique)."""
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


def write_registry_snapshot(lake: Path, snapshot: dt.date = dt.date(2026, 3, 1)) -> None:
    """One snapshot of the three registries that the rows of `event` and `reading` need."""
    write_registries(
        lake,
        snapshot,
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
