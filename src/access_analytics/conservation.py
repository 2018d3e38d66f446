"""Rows read from the lake against rows kept, dropped as duplicates and quarantined."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

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


def balances(warehouse: Path, lake: Path) -> list[TableBalance]:
    """Count each telemetry table's rows in the lake files and in the built staging models.

    The lake side is counted from the Parquet files themselves, independently of dbt.
    """
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        result = []
        for table_name, model in TELEMETRY_TABLES.items():
            pattern = str(raw_table(table_name).directory(Path(lake).resolve()) / "*" / "*.parquet")
            rows_read = _count(connection, f"select count(*) from read_parquet('{pattern}')")
            result.append(
                TableBalance(
                    table_name=table_name,
                    rows_read=rows_read,
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
