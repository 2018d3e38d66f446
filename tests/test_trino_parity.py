"""The same raw lake built on DuckDB and on Trino gives the same marts.

One small generated lake (the session's `built_warehouse`) is built with `dbt build` on both
engines (every model, seed and
test must pass on each). Every relation of the mart interface (docs/metrics.md) is then compared
row by row: counts, ids, dimensions and dates exactly, rates and other fractions within 1e-9,
percentiles within 1% of the value. Pseudonyms are the same keyed hashes on both engines.
Finally a second `dbt build` on Trino with no new data leaves every incremental model as it was.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from trino_fixtures import TIMINGS, TrinoBuild

from access_analytics.dbt_runner import run_dbt
from access_analytics.paths import DEMO_PSEUDONYM_KEY
from access_analytics.trino import server

pytestmark = pytest.mark.trino

RATE_TOLERANCE = 1e-9
PERCENTILE_TOLERANCE = 0.01

# Grain of each relation of the mart interface (docs/metrics.md), and the columns compared.
MART_INTERFACE: dict[str, tuple[tuple[str, ...], str]] = {
    "fct_unlock_attempts": (
        ("attempt_id",),
        "attempt_id, vehicle_key, attempt_at, attempt_date, key_type, radio, firmware_version, "
        "model, region, access_hw, outcome, latency_ms, handle_wait",
    ),
    "fct_card_taps": (
        ("tap_id",),
        "tap_id, vehicle_key, tapped_at, tap_date, firmware_version, model, region, outcome, "
        "latency_ms, tap_intent",
    ),
    "fct_walkaway_episodes": (
        ("episode_id",),
        "episode_id, vehicle_key, started_at, episode_date, key_type, radio, firmware_version, "
        "model, region, access_hw, outcome, suppression_reason, time_to_lock_ms",
    ),
    "fct_fob_battery_daily": (
        ("fob_key", "reading_date"),
        "fob_key, vehicle_key, reading_date, readings, voltage_comp_mv_median, voltage_mv_min, "
        "cell_lot",
    ),
    "dim_fob_health": (
        ("fob_key",),
        "fob_key, vehicle_key, cell_lot, model, region, last_reading_date, "
        "latest_voltage_comp_mv, drain_mv_per_day, days_to_low, health_band",
    ),
    "mart_unlock_daily": (
        ("metric_date",),
        "metric_date, attempts, unlocked, unlock_success_rate, success_rate_ci_low, "
        "success_rate_ci_high, latency_p50_ms, latency_p90_ms, latency_p95_ms, latency_p99_ms, "
        "handle_wait_rate, is_complete_day",
    ),
    "mart_card_taps_daily_by_slice": (
        ("metric_date", "model", "region", "firmware_version"),
        "metric_date, model, region, firmware_version, taps, unlocked, unlock_rate, "
        "latency_p50_ms, latency_p95_ms, unlock_taps, unlock_taps_succeeded, lock_taps, "
        "unlock_tap_success_rate, is_complete_day",
    ),
    "mart_walkaway_daily": (
        ("metric_date",),
        "metric_date, episodes, eligible_episodes, locked, walkaway_reliability, "
        "reliability_ci_low, reliability_ci_high, left_unlocked_per_10k, time_to_lock_p50_ms, "
        "time_to_lock_p95_ms, is_complete_day",
    ),
    "mart_fob_battery_daily": (
        ("metric_date",),
        "metric_date, fobs_reporting, voltage_comp_mv_median, share_below_2700, is_complete_day",
    ),
    "mart_firmware_release_health": (
        ("firmware_version",),
        "firmware_version, predecessor_version, window_start, window_end, attempts_new, "
        "attempts_prev, success_rate_new, success_rate_prev, success_p_value, "
        "latency_p95_new_ms, latency_p95_prev_ms, latency_p95_change, eligible_new, "
        "eligible_prev, reliability_new, reliability_prev, reliability_p_value, status",
    ),
    "mart_firmware_rollout_monitor": (
        ("firmware_version", "metric_date"),
        "firmware_version, predecessor_version, window_start, window_end, metric_date, day_index, "
        "window_complete, "
        + ", ".join(
            f"{guardrail}_{measure}"
            for guardrail in ("unlock_failure", "slow_unlock", "walkaway_failure")
            for measure in ("n_new", "n_prev", "rate_new", "rate_prev", "p_value")
        )
        + ", status, first_flagged_date, flagged_guardrails",
    ),
    "mart_data_quality_daily": (
        ("table_name", "ingest_date"),
        "table_name, ingest_date, rows_read, rows_kept, duplicates_dropped, rows_quarantined, "
        "late_1h_share, late_24h_share, max_received_at, unknown_firmware_rows",
    ),
    "mart_quarantine_reasons": (
        ("table_name", "ingest_date", "reason"),
        "table_name, ingest_date, reason, rows",
    ),
}

# Percentiles (and medians, and the median of daily medians) may be approximate on an engine;
# they may differ by at most 1% of the value.
PERCENTILE_COLUMN = re.compile(r"(_p\d\d(_|$)|median|^latest_voltage_comp_mv$)")
# A relative change of two percentiles: (1 + change) is a ratio of two 1%-bounded values.
PERCENTILE_CHANGE_COLUMNS = {"latency_p95_change"}


# --- reading both warehouses ------------------------------------------------------------


Table = tuple[list[str], list[tuple]]


def duckdb_table(db: duckdb.DuckDBPyConnection, schema: str, name: str) -> Table:
    relation = db.sql(f'select * from "{schema}"."{name}"')
    return list(relation.columns), [tuple(row) for row in relation.fetchall()]


def trino_table(settings: server.TrinoSettings, schema: str, name: str) -> Table:
    conn = server.connect(settings, catalog=server.ICEBERG_CATALOG)
    try:
        cursor = conn.cursor()
        cursor.execute(f'select * from "{schema}"."{name}"')
        rows = [tuple(row) for row in cursor.fetchall()]
        return [column[0] for column in cursor.description], rows
    finally:
        conn.close()


def trino_rows(settings: server.TrinoSettings, sql: str) -> list[tuple]:
    return server.query(sql, settings)


def keyed(table: Table, key: Sequence[str]) -> dict[tuple, dict[str, Any]]:
    columns, rows = table
    out: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        out[tuple(record[k] for k in key)] = record
    return out


# --- comparing values ------------------------------------------------------------------


def _is_fraction(value: Any) -> bool:
    return isinstance(value, float) or type(value).__name__ == "Decimal"


def value_mismatch(column: str, duck: Any, trino: Any) -> str | None:
    """Why the two values of one cell disagree beyond the allowed tolerance, or None."""
    if duck is None or trino is None:
        return None if duck is None and trino is None else "null on one engine only"
    if (
        isinstance(duck, bool)
        or isinstance(trino, bool)
        or not (_is_fraction(duck) or _is_fraction(trino))
    ):
        return None if duck == trino else "differs"
    a, b = float(duck), float(trino)
    if column in PERCENTILE_CHANGE_COLUMNS:
        bound = (1 + PERCENTILE_TOLERANCE) ** 2 - 1
        ok = math.isclose(1 + a, 1 + b, rel_tol=bound)
    elif PERCENTILE_COLUMN.search(column):
        ok = math.isclose(a, b, rel_tol=PERCENTILE_TOLERANCE)
    else:
        ok = math.isclose(a, b, rel_tol=RATE_TOLERANCE, abs_tol=RATE_TOLERANCE)
    return None if ok else f"beyond tolerance ({abs(a - b):.3g})"


def compare_tables(name: str, key: Sequence[str], duck: Table, trino: Table) -> list[str]:
    problems: list[str] = []
    if set(duck[0]) != set(trino[0]):
        problems.append(
            f"{name}: columns only on DuckDB {sorted(set(duck[0]) - set(trino[0]))}, "
            f"only on Trino {sorted(set(trino[0]) - set(duck[0]))}"
        )
    if len(duck[1]) != len(trino[1]):
        problems.append(f"{name}: {len(duck[1])} rows on DuckDB, {len(trino[1])} on Trino")
    duck_rows, trino_rows_ = keyed(duck, key), keyed(trino, key)
    if len(duck_rows) != len(duck[1]) or len(trino_rows_) != len(trino[1]):
        problems.append(f"{name}: the key {key} is not unique")
    for missing in sorted(set(duck_rows) - set(trino_rows_), key=repr)[:5]:
        problems.append(f"{name}: {missing} only on DuckDB")
    for extra in sorted(set(trino_rows_) - set(duck_rows), key=repr)[:5]:
        problems.append(f"{name}: {extra} only on Trino")
    columns = [c for c in duck[0] if c in set(trino[0])]
    for row_key in sorted(set(duck_rows) & set(trino_rows_), key=repr):
        for column in columns:
            left, right = duck_rows[row_key][column], trino_rows_[row_key][column]
            reason = value_mismatch(column, left, right)
            if reason:
                problems.append(
                    f"{name} {row_key} {column}: DuckDB {left!r}, Trino {right!r}: {reason}"
                )
    return problems


def max_percentile_deviation(duck: Table, trino: Table, key: Sequence[str]) -> float:
    worst = 0.0
    duck_rows, trino_rows_ = keyed(duck, key), keyed(trino, key)
    for row_key in set(duck_rows) & set(trino_rows_):
        for column, left in duck_rows[row_key].items():
            right = trino_rows_[row_key].get(column)
            if PERCENTILE_COLUMN.search(column) and left and right is not None:
                worst = max(worst, abs(float(right) / float(left) - 1))
    return worst


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def duck(built_warehouse) -> Iterable[duckdb.DuckDBPyConnection]:
    """The session's DuckDB build of the same lake the Trino build reads."""
    connection = duckdb.connect(str(built_warehouse.path), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def mart_tables(
    duck: duckdb.DuckDBPyConnection, trino_build: TrinoBuild
) -> dict[str, tuple[Table, Table]]:
    return {
        name: (duckdb_table(duck, "marts", name), trino_table(trino_build.settings, "marts", name))
        for name in MART_INTERFACE
    }


# --- the tests --------------------------------------------------------------------------


def test_the_mart_interface_exists_with_its_columns_on_both_engines(mart_tables):
    for name, (_key, required) in MART_INTERFACE.items():
        duck, trino = mart_tables[name]
        wanted = [column.strip() for column in required.split(",")]
        assert set(wanted) <= set(duck[0]), (name, sorted(set(wanted) - set(duck[0])))
        assert set(wanted) <= set(trino[0]), (name, sorted(set(wanted) - set(trino[0])))
        assert duck[1], f"{name} is empty: the parity lake is too small to compare it"


def test_the_lake_covers_every_outcome(mart_tables):
    """Parity means little unless every branch of every metric is exercised."""

    def values(name: str, column: str) -> set:
        columns, rows = mart_tables[name][0]
        index = columns.index(column)
        return {row[index] for row in rows}

    assert values("fct_unlock_attempts", "outcome") == {"unlocked", "timed_out"}
    assert values("fct_unlock_attempts", "handle_wait") == {True, False}
    assert values("fct_card_taps", "outcome") == {"unlocked", "no_unlock"}
    assert values("fct_card_taps", "tap_intent") >= {"unlock", "lock"}
    assert values("mart_unlock_daily", "is_complete_day") == {True, False}
    assert values("mart_fob_battery_daily", "is_complete_day") == {True, False}
    assert values("fct_walkaway_episodes", "outcome") == {
        "locked",
        "locked_late",
        "manual_lock",
        "suppressed",
        "not_locked",
    }
    assert len(values("fct_walkaway_episodes", "suppression_reason") - {None}) >= 2
    assert len(values("dim_fob_health", "health_band")) >= 2
    assert values("mart_data_quality_daily", "table_name") == {
        "access_events",
        "fob_battery_readings",
    }
    assert len(values("mart_quarantine_reasons", "reason")) >= 3
    assert values("mart_firmware_release_health", "status")


def test_every_mart_interface_relation_is_the_same_on_both_engines(mart_tables):
    problems: list[str] = []
    for name, (key, _required) in MART_INTERFACE.items():
        duck, trino = mart_tables[name]
        problems += compare_tables(name, key, duck, trino)
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:40])


def test_percentiles_on_trino_are_within_one_percent(mart_tables):
    """The Trino percentile is computed exactly, so it should be well inside the 1% bound."""
    for name, (key, _required) in MART_INTERFACE.items():
        duck, trino = mart_tables[name]
        assert max_percentile_deviation(duck, trino, key) <= PERCENTILE_TOLERANCE, name


def test_every_relation_has_the_same_row_count_on_both_engines(duck, trino_build):
    """Beyond the Mart interface: every model and seed the project builds."""
    manifest = json.loads((trino_build.target_path / "manifest.json").read_text())
    relations = sorted(
        (node["schema"], node.get("alias") or node["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] in {"model", "seed", "snapshot"}
        and node["config"].get("materialized") != "ephemeral"
        and node["config"].get("enabled", True)
    )
    assert len(relations) > len(MART_INTERFACE)
    differences = []
    for schema, name in relations:
        on_duckdb = duck.sql(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
        on_trino = trino_rows(
            trino_build.settings, f'select count(*) from lake."{schema}"."{name}"'
        )[0][0]
        if on_duckdb != on_trino:
            differences.append(f"{schema}.{name}: DuckDB {on_duckdb}, Trino {on_trino}")
    assert not differences, "\n".join(differences)


def test_pseudonyms_are_the_keyed_hash_on_both_engines(duck, trino_build):
    vins = set()
    for path in (trino_build.lake / "raw" / "vehicles").rglob("*.parquet"):
        vins |= set(pq.read_table(path, columns=["vin"]).column("vin").to_pylist())
    expected = {
        hashlib.sha256(f"{DEMO_PSEUDONYM_KEY}|{vin}".encode()).hexdigest()[:16] for vin in vins
    }
    on_duckdb = {
        row[0] for row in duck.sql("select vehicle_key from marts.dim_vehicles").fetchall()
    }
    on_trino = {
        row[0]
        for row in trino_rows(
            trino_build.settings, "select vehicle_key from lake.marts.dim_vehicles"
        )
    }
    assert on_duckdb == on_trino
    assert on_trino and on_trino <= expected


def failed_results(target_path: Path) -> dict[str, str]:
    """Nodes of a dbt run that did not succeed (exposures report `no-op`)."""
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    return {
        result["unique_id"]: result["status"]
        for result in results
        if result["status"] not in {"success", "pass", "no-op"}
    }


def _incremental_relations(target_path: Path) -> list[tuple[str, str]]:
    manifest = json.loads((target_path / "manifest.json").read_text())
    return sorted(
        (node["schema"], node.get("alias") or node["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    )


def _snapshot_ids(settings: server.TrinoSettings, schema: str, name: str) -> int:
    return trino_rows(settings, f'select count(*) from lake."{schema}"."{name}$snapshots"')[0][0]


def test_a_second_run_without_new_data_changes_nothing_on_trino(
    trino_build: TrinoBuild, mart_tables
):
    """Incremental models re-read their lookback days with delete+insert on Iceberg: running
    them again over the same lake must rewrite those days to exactly the same rows. Only the
    incremental models run again: every other relation is rebuilt whole on each build, and
    a complete second build with no new data is checked on DuckDB (test_incremental_marts)."""
    settings = trino_build.settings
    incremental = _incremental_relations(trino_build.target_path)
    assert len(incremental) >= 5

    def content(schema: str, name: str) -> list[tuple]:
        _columns, rows = trino_table(settings, schema, name)
        return sorted(rows, key=repr)

    before = {relation: content(*relation) for relation in incremental}
    snapshots_before = {relation: _snapshot_ids(settings, *relation) for relation in incremental}
    started = time.monotonic()
    rebuild_target = trino_build.target_path.parent / "trino_rebuild_target"
    run_dbt(
        ["run", "--select", "config.materialized:incremental"],
        lake=trino_build.lake,
        target="trino",
        env=trino_build.env(),
        target_path=rebuild_target,
    )
    TIMINGS["trino_rebuild_s"] = time.monotonic() - started

    changed = [f"{s}.{n}" for (s, n) in incremental if content(s, n) != before[(s, n)]]
    assert not changed, f"a second run changed {changed}"
    # The second run took the incremental path (it wrote new Iceberg snapshots into the
    # existing tables instead of replacing them).
    rewritten = [r for r in incremental if _snapshot_ids(settings, *r) > snapshots_before[r]]
    assert rewritten, "no incremental model was written by the second run"
    assert not failed_results(rebuild_target)


def test_trino_build_ran_every_test(trino_build: TrinoBuild):
    """The Trino build is the real `dbt build`: every data and unit test ran and passed."""
    results = json.loads((trino_build.target_path / "run_results.json").read_text())["results"]
    tests = [r for r in results if r["unique_id"].startswith(("test.", "unit_test."))]
    assert len(tests) > 100
    assert not failed_results(trino_build.target_path)
