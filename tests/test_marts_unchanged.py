"""The marts stay what they were: a golden digest of every mart on the test fleet.

Refactoring models (moving them, computing a metric in one place instead of two,
reading the lake in one pass) must not change a single published number. Each
relation of schema `marts` is reduced to its columns, row count and a digest of
its sorted rows (floats to 9 significant digits, so a different summation order
inside the engine does not count as a change) and compared with
`tests/golden/mart_digests.json`, recorded on the test fleet.

When a change is meant to alter the marts, record the new digests with
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_marts_unchanged.py` and say why in
the commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import duckdb
import pytest

GOLDEN = Path(__file__).parent / "golden" / "mart_digests.json"


def _canonical(value: object) -> object:
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def relation_digest(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, object]:
    cursor = con.execute(f"select * from marts.{relation}")
    columns = [column[0] for column in cursor.description]
    rows = sorted(
        json.dumps([_canonical(v) for v in row], default=str) for row in cursor.fetchall()
    )
    digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return {"columns": columns, "rows": len(rows), "sha256": digest}


def mart_digests(warehouse: Path) -> dict[str, dict[str, object]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        relations = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by table_name"
            ).fetchall()
        ]
        return {relation: relation_digest(con, relation) for relation in relations}


def test_every_mart_equals_its_recorded_digest(built_warehouse) -> None:
    actual = mart_digests(built_warehouse.path)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(actual, indent=2, sort_keys=True) + "\n")
        pytest.skip(f"recorded {GOLDEN}")
    expected = json.loads(GOLDEN.read_text())
    assert sorted(actual) == sorted(expected), "the set of marts changed"
    changed = [name for name in expected if actual[name] != expected[name]]
    assert not changed, f"marts that changed: {changed}"
