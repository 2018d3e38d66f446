"""The raw contract is stated once (models/staging/_staging__sources.yml) and every
other statement of it is derived: the generator's Parquet schemas and the Trino
external tables. Checked here against the test side's own, hand-written statement
of the contract (tests/lake_builder.py), which is kept independent on purpose.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from lake_builder import PARTITION_COLUMN, SCHEMAS

from access_analytics.contract import raw_tables
from access_analytics.generator import arrow_util
from access_analytics.trino.lake import RAW_TABLES

GENERATOR_SCHEMAS = {
    "access_events": arrow_util.ACCESS_EVENTS_SCHEMA,
    "fob_battery_readings": arrow_util.FOB_BATTERY_READINGS_SCHEMA,
    "vehicles": arrow_util.VEHICLES_SCHEMA,
    "keys": arrow_util.KEYS_SCHEMA,
    "firmware_releases": arrow_util.FIRMWARE_RELEASES_SCHEMA,
}


def test_the_contract_lists_the_five_raw_tables_with_their_partitions():
    tables = raw_tables()
    assert list(tables) == list(SCHEMAS)
    assert {name: table.partition_column for name, table in tables.items()} == PARTITION_COLUMN


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_derived_parquet_schemas_equal_the_hand_written_ones(table):
    assert raw_tables()[table].arrow_schema.equals(SCHEMAS[table])
    assert GENERATOR_SCHEMAS[table].equals(SCHEMAS[table])


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_trino_tables_take_the_contract_types_with_microsecond_timestamps(table):
    (registered,) = (raw for raw in RAW_TABLES if raw.name == table)
    trino_types = {
        pa.string(): "varchar",
        pa.timestamp("us"): "timestamp(6)",
        pa.int16(): "smallint",
        pa.float32(): "real",
        pa.date32(): "date",
    }
    expected = [(field.name, trino_types[field.type]) for field in SCHEMAS[table]]
    assert list(registered.trino_columns) == [*expected, (PARTITION_COLUMN[table], "date")]
