"""The raw contract as the project states it once: models/staging/_staging__sources.yml.

Every raw table's columns and contract types, and its partition column, are read
from the dbt sources file, so the generator's Parquet schemas and the Trino
external tables cannot drift from what staging validates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyarrow as pa
import yaml

from access_analytics.paths import PROJECT_ROOT

SOURCES_FILE = PROJECT_ROOT / "models" / "staging" / "_staging__sources.yml"

# Parquet types of the contract's SQL types; timestamps are microseconds, no time zone.
ARROW_TYPES: dict[str, pa.DataType] = {
    "varchar": pa.string(),
    "timestamp": pa.timestamp("us"),
    "smallint": pa.int16(),
    "real": pa.float32(),
    "date": pa.date32(),
}
# Trino's bare `timestamp` keeps milliseconds only; the contract needs all six digits.
TRINO_TYPES = {"timestamp": "timestamp(6)"}


@dataclass(frozen=True)
class RawTable:
    """One raw table of the lake: its file columns (name, contract type) and partition column."""

    name: str
    columns: tuple[tuple[str, str], ...]
    partition_column: str

    @property
    def arrow_schema(self) -> pa.Schema:
        """The Parquet schema of the table's files (the partition is the folder, not a column)."""
        return pa.schema([(name, ARROW_TYPES[data_type]) for name, data_type in self.columns])

    @property
    def trino_columns(self) -> tuple[tuple[str, str], ...]:
        """Columns and Trino types of the external table, the partition column last."""
        columns = (*self.columns, (self.partition_column, "date"))
        return tuple((name, TRINO_TYPES.get(data_type, data_type)) for name, data_type in columns)

    def directory(self, lake_root: Path) -> Path:
        return Path(lake_root) / "raw" / self.name

    def partition_directory(self, lake_root: Path, partition: str) -> Path:
        return self.directory(lake_root) / f"{self.partition_column}={partition}"


@cache
def raw_tables(sources_file: Path = SOURCES_FILE) -> dict[str, RawTable]:
    """Every table of source `raw`, by name, in the order the contract lists them."""
    document = yaml.safe_load(sources_file.read_text())
    (raw,) = (source for source in document["sources"] if source["name"] == "raw")
    tables: dict[str, RawTable] = {}
    for table in raw["tables"]:
        partition_column = table["config"]["meta"]["partition_column"]
        columns = tuple(
            (column["name"], column["data_type"])
            for column in table["columns"]
            if column["name"] != partition_column
        )
        tables[table["name"]] = RawTable(table["name"], columns, partition_column)
    return tables


def raw_table(name: str) -> RawTable:
    return raw_tables()[name]


def accepted_values(table_name: str, column_name: str, sources_file: Path = SOURCES_FILE) -> tuple:
    """The values the contract accepts for a column, in the order it lists them."""
    document = yaml.safe_load(sources_file.read_text())
    (raw,) = (source for source in document["sources"] if source["name"] == "raw")
    (table,) = (table for table in raw["tables"] if table["name"] == table_name)
    (column,) = (column for column in table["columns"] if column["name"] == column_name)
    return tuple(column["config"]["meta"]["accepted_values"])
