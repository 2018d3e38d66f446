"""A local Trino 476 for the scale-out target: server control and raw-lake registration."""

from access_analytics.trino.lake import RAW_SCHEMA, RAW_TABLES, register_lake
from access_analytics.trino.server import (
    HIVE_CATALOG,
    ICEBERG_CATALOG,
    TRINO_VERSION,
    TrinoError,
    TrinoSettings,
    start,
    status,
    stop,
)

__all__ = [
    "HIVE_CATALOG",
    "ICEBERG_CATALOG",
    "RAW_SCHEMA",
    "RAW_TABLES",
    "TRINO_VERSION",
    "TrinoError",
    "TrinoSettings",
    "register_lake",
    "start",
    "status",
    "stop",
]
