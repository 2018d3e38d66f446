"""Publish a built warehouse to the file Superset reads, atomically.

DuckDB allows one writer or many readers on a file, never both. dbt therefore
builds into its own file; after a successful build a copy is checked and then
renamed over the served file. A rename is atomic on one filesystem: readers see
either the old or the new warehouse, and connections already open keep reading
the old inode until they close. A failed build never reaches this step.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import duckdb

# Relations Superset cannot do without; a build missing any is not published.
REQUIRED_MARTS = (
    "mart_unlock_daily",
    "mart_walkaway_daily",
    "mart_fob_battery_daily",
    "mart_firmware_release_health",
    "mart_data_quality_daily",
)


class PublishError(RuntimeError):
    pass


def check_warehouse(path: Path, required: tuple[str, ...] = REQUIRED_MARTS) -> None:
    """Open read-only and make sure the marts are there and readable."""
    if not path.exists():
        raise PublishError(f"{path}: no such warehouse file (did dbt build run?)")
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            tables = {
                row[0]
                for row in con.execute(
                    "select table_name from information_schema.tables where table_schema = 'marts'"
                ).fetchall()
            }
            missing = [name for name in required if name not in tables]
            if missing:
                raise PublishError(f"{path}: schema marts lacks {', '.join(missing)}")
            for name in required:
                con.execute(f'select count(*) from marts."{name}"').fetchone()
    except duckdb.Error as exc:
        raise PublishError(f"{path}: cannot be read: {exc}") from exc


def publish(build_path: Path, serving_path: Path) -> Path:
    """Copy the built file next to the served one, verify it, then swap it in."""
    check_warehouse(build_path)
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{serving_path.name}.", suffix=".tmp", dir=serving_path.parent
    )
    os.close(fd)
    tmp_path = Path(tmp_name)
    try:
        shutil.copyfile(build_path, tmp_path)
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        check_warehouse(tmp_path)
        os.replace(tmp_path, serving_path)
        directory = os.open(serving_path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    finally:
        tmp_path.unlink(missing_ok=True)
    return serving_path
