"""Publishing a built warehouse to the file Superset reads: atomic, never a failed build."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from access_analytics.superset.publish import REQUIRED_MARTS, PublishError, publish


def make_warehouse(path: Path, marker: str, marts: tuple[str, ...] = REQUIRED_MARTS) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        for name in marts:
            con.execute(f"create table marts.{name} as select '{marker}' as build")
    return path


def served_build(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select build from marts.mart_unlock_daily").fetchone()[0]


def test_a_good_build_replaces_the_served_file(tmp_path):
    serving = tmp_path / "serving" / "warehouse.duckdb"
    publish(make_warehouse(tmp_path / "first.duckdb", "first"), serving)
    publish(make_warehouse(tmp_path / "second.duckdb", "second"), serving)
    assert served_build(serving) == "second"
    assert sorted(p.name for p in serving.parent.iterdir()) == ["warehouse.duckdb"]


def test_a_build_missing_marts_is_not_published(tmp_path):
    serving = publish(make_warehouse(tmp_path / "good.duckdb", "good"), tmp_path / "w.duckdb")
    partial = make_warehouse(tmp_path / "partial.duckdb", "partial", REQUIRED_MARTS[:2])
    with pytest.raises(PublishError, match="lacks mart_fob_battery_daily"):
        publish(partial, serving)
    assert served_build(serving) == "good"


def test_a_corrupt_build_is_not_published(tmp_path):
    serving = publish(make_warehouse(tmp_path / "good.duckdb", "good"), tmp_path / "w.duckdb")
    corrupt = tmp_path / "corrupt.duckdb"
    corrupt.write_bytes(os.urandom(4096))
    with pytest.raises(PublishError, match="cannot be read"):
        publish(corrupt, serving)
    assert served_build(serving) == "good"


def test_readers_keep_reading_while_a_new_build_is_published(tmp_path):
    serving = publish(make_warehouse(tmp_path / "a.duckdb", "old"), tmp_path / "w.duckdb")
    with duckdb.connect(str(serving), read_only=True) as reader:
        publish(make_warehouse(tmp_path / "b.duckdb", "new"), serving)
        # The open connection still sees the warehouse it opened, unharmed.
        assert reader.execute("select build from marts.mart_unlock_daily").fetchone() == ("old",)
    assert served_build(serving) == "new"


def test_publishing_while_dbt_holds_the_build_file_open_for_writing(tmp_path):
    build = make_warehouse(tmp_path / "build.duckdb", "built")
    serving = publish(build, tmp_path / "w.duckdb")
    with duckdb.connect(str(build)) as writer:
        writer.execute("create table marts.scratch as select 1 as x")
        # Superset's file is separate, so reading it is unaffected by the writer.
        assert served_build(serving) == "built"
