"""Rows read from the lake against rows kept, dropped as duplicates and quarantined."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from access_analytics.contract import raw_table

TELEMETRY_TABLES = {
    "access_events": "stg_raw__access_events",
    "fob_battery_readings": "stg_raw__fob_battery_readings",
}


@dataclass(frozen=True)
class TableBalance:
    table_name: str
    rows_read: int
    rows_kept: int
    duplicates_dropped: int
    rows_quarantined: int

    @property
    def adds_up(self) -> bool:
        return self.rows_read == self.rows_kept + self.duplicates_dropped + self.rows_quarantined


class LakeFileError(RuntimeError):
    """A file in a raw table's folder is not a readable Parquet file."""


def lake_files(lake: Path, table_name: str) -> list[Path]:
    """Every file under the table's folder, at any depth and whatever its name or case."""
    directory = raw_table(table_name).directory(Path(lake).resolve())
    return sorted(path for path in directory.rglob("*") if path.is_file())


def lake_rows(lake: Path, table_name: str) -> int:
    """The rows of every file of the table, from each file's Parquet footer.

    Listed independently of the layout the models read (`<partition>/*.parquet`), so a
    file they would skip still counts here, and the balance does not add up.
    """
    rows = 0
    for path in lake_files(lake, table_name):
        try:
            rows += pq.read_metadata(path).num_rows
        except (OSError, pa.ArrowException) as error:
            raise LakeFileError(f"{path}: not a readable Parquet file ({error})") from error
    return rows


def balances(warehouse: Path, lake: Path) -> list[TableBalance]:
    """Count each telemetry table's rows in the lake files and in the built staging models.

    The lake side is counted from the Parquet files themselves, independently of dbt:
    every file under the table's folder (lake_rows).
    """
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        result = []
        for table_name, model in TELEMETRY_TABLES.items():
            result.append(
                TableBalance(
                    table_name=table_name,
                    rows_read=lake_rows(lake, table_name),
                    rows_kept=_count(connection, f"select count(*) from staging.{model}"),
                    duplicates_dropped=_count(
                        connection, f"select count(*) from staging.{model}_duplicates"
                    ),
                    rows_quarantined=_count(
                        connection, f"select count(*) from staging.{model}_quarantine"
                    ),
                )
            )
        return result
    finally:
        connection.close()


def _count(connection: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = connection.execute(sql).fetchone()
    return int(row[0]) if row else 0
