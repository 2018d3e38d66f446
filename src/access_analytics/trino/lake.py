"""Expose the raw lake as Hive external tables in the local Trino, typed by the raw contract.

The upload pipeline drops Parquet files into Hive-style partition folders. External Hive
tables read whatever files a partition holds at query time, so new files in a known partition
need no registration; only new partition folders do (`sync_partition_metadata`). That is the
way the production lake is exposed too, and it keeps the files where they are: nothing is
copied or rewritten. Re-running the registration is safe: tables are created once (re-created
only when their location or columns changed) and partitions are synchronised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from access_analytics.contract import RawTable, raw_tables
from access_analytics.trino.server import HIVE_CATALOG, TrinoSettings, connect

RAW_SCHEMA = "raw"


# The raw tables with their exact contract columns and Trino types. Timestamps are Parquet
# TIMESTAMP(MICROS), read with all six digits (the catalog sets hive.timestamp-precision).
RAW_TABLES: tuple[RawTable, ...] = tuple(raw_tables().values())


@dataclass
class RegisteredTable:
    name: str
    location: str
    created: bool
    partitions: int
    rows: int


def _create_sql(table: RawTable, location: str, qualified: str) -> str:
    columns = ",\n    ".join(f'"{name}" {data_type}' for name, data_type in table.trino_columns)
    return (
        f"create table {qualified} (\n    {columns}\n)\n"
        f"with (\n    format = 'PARQUET',\n    external_location = '{location}',\n"
        f"    partitioned_by = array['{table.partition_column}']\n)"
    )


def register_lake(
    lake_root: Path,
    settings: TrinoSettings | None = None,
    catalog: str = HIVE_CATALOG,
    schema: str = RAW_SCHEMA,
) -> list[RegisteredTable]:
    """Create or refresh the external tables of every raw table under <lake_root>/raw/.

    `schema` lets several lakes live side by side (dbt reads ACCESS_TRINO_RAW_SCHEMA).
    """
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
        raise ValueError(f"schema name {schema!r}: use lowercase letters, digits and _")
    settings = settings or TrinoSettings()
    raw_root = Path(lake_root).resolve() / "raw"
    if not raw_root.is_dir():
        raise FileNotFoundError(f"no raw lake at {raw_root} (expected <lake>/raw/<table>/)")
    conn = connect(settings, catalog=catalog)
    cursor = conn.cursor()

    def run(sql: str) -> list[tuple]:
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]

    results: list[RegisteredTable] = []
    try:
        run(f"create schema if not exists {catalog}.{schema}")
        for table in RAW_TABLES:
            directory = table.directory(raw_root.parent)
            # A table with no upload yet is an empty table, not a missing one.
            directory.mkdir(parents=True, exist_ok=True)
            location = f"local://{directory}"
            qualified = f'{catalog}.{schema}."{table.name}"'
            existing = run(
                "select column_name, data_type from information_schema.columns "
                f"where table_schema = '{schema}' and table_name = '{table.name}' "
                "order by ordinal_position"
            )
            created = False
            if existing:
                ddl = run(f"show create table {qualified}")[0][0]
                match = re.search(r"external_location = '([^']*)'", ddl)
                current_location = match.group(1) if match else None
                if existing != list(table.trino_columns) or current_location != location:
                    # External table: dropping it removes metadata only, never the files.
                    run(f"drop table {qualified}")
                    existing = []
            if not existing:
                run(_create_sql(table, location, qualified))
                created = True
            run(
                f"call {catalog}.system.sync_partition_metadata("
                f"schema_name => '{schema}', table_name => '{table.name}', mode => 'FULL')"
            )
            partitions = run(f'select count(*) from {catalog}.{schema}."{table.name}$partitions"')
            rows = run(f"select count(*) from {qualified}")
            results.append(
                RegisteredTable(table.name, location, created, partitions[0][0], rows[0][0])
            )
    finally:
        conn.close()
    return results
