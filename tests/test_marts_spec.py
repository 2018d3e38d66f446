"""The marts follow docs/metrics.md to the row.

A small generated lake is built with dbt, then every attempt, card tap and
walk-away episode is recomputed here by a plain Python reading of docs/metrics.md
(a loop over each vehicle's events, nothing shared with the SQL) and compared
with the fact tables row by row; the daily marts, the fob health view and the
firmware release health are recomputed from those rows. Finally, no column of
the marts holds a VIN or key id in clear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from access_analytics.paths import DEMO_PSEUDONYM_KEY

UNLOCK_TIMEOUT = dt.timedelta(seconds=30)
CARD_WINDOW = dt.timedelta(seconds=5)
WALKAWAY_WINDOW = dt.timedelta(seconds=600)
WALKAWAY_SLO_MS = 5000
Z = 1.959964
RESOLVING = {"door_locked", "walkaway_suppressed", "unlock_zone_entered", "lock_zone_exited"}
# The lock state a card tap sees: door_locked = locked, the others = unlocked.
LOCK_STATE_EVENTS = {"door_locked", "door_unlocked", "door_opened"}
# Complete days: warm-up after the first ingest day and lateness allowance, in days.
COMPLETE_DAY_WARMUP = 1
COMPLETE_DAY_LATENESS = 1


@dataclass(frozen=True)
class Event:
    event_id: str
    vin: str
    event_at: dt.datetime
    event_type: str
    lock_source: str | None
    detail: str | None


def pseudonym(value: str) -> str:
    return hashlib.sha256(f"{DEMO_PSEUDONYM_KEY}|{value}".encode()).hexdigest()[:16]


def millis(start: dt.datetime, end: dt.datetime) -> int:
    """Whole milliseconds, truncated (both are non-negative here)."""
    return ((end - start) // dt.timedelta(microseconds=1)) // 1000


def wilson(successes: int, trials: int) -> tuple[float, float]:
    p = successes / trials
    centre = p + Z * Z / (2 * trials)
    half = Z * math.sqrt(p * (1 - p) / trials + Z * Z / (4 * trials * trials))
    return (centre - half) / (1 + Z * Z / trials), (centre + half) / (1 + Z * Z / trials)


def close(actual: Any, expected: Any, rel: float = 1e-9) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=1e-9)


# --- the reference reading of docs/metrics.md -------------------------------


def reference_attempts(events: list[Event]) -> dict[str, tuple[str, int | None, bool]]:
    """attempt_id -> (outcome, latency_ms, handle_wait) for one vehicle's ordered events."""
    out = {}
    for i, start in enumerate(events):
        if start.event_type != "unlock_zone_entered":
            continue
        unlock, handle = None, False
        for later in events[i + 1 :]:
            if later.event_at - start.event_at > UNLOCK_TIMEOUT:
                break
            if later.event_type == "unlock_zone_entered":
                break
            if later.event_type == "door_unlocked" and later.lock_source == "passive":
                unlock = later
                break
            if later.event_type == "handle_pulled":
                handle = True
        if unlock is None:
            out[start.event_id] = ("timed_out", None, handle)
        else:
            out[start.event_id] = ("unlocked", millis(start.event_at, unlock.event_at), handle)
    return out


def reference_taps(events: list[Event]) -> dict[str, tuple[str, int | None]]:
    out = {}
    for i, tap in enumerate(events):
        if tap.event_type != "nfc_tapped":
            continue
        out[tap.event_id] = ("no_unlock", None)
        for later in events[i + 1 :]:
            if later.event_at - tap.event_at > CARD_WINDOW:
                break
            if later.event_type == "door_unlocked" and later.lock_source == "card":
                out[tap.event_id] = ("unlocked", millis(tap.event_at, later.event_at))
                break
    return out


def reference_tap_intents(events: list[Event]) -> dict[str, str]:
    """tap_id -> tap_intent: the latest lock state event strictly before the tap decides."""
    out = {}
    for tap in events:
        if tap.event_type != "nfc_tapped":
            continue
        earlier = [
            e for e in events if e.event_type in LOCK_STATE_EVENTS and e.event_at < tap.event_at
        ]
        if not earlier:
            out[tap.event_id] = "unknown"
        else:  # events are in event order, so the last one wins ties on event_at
            out[tap.event_id] = "unlock" if earlier[-1].event_type == "door_locked" else "lock"
    return out


def reference_complete_days(ingest_days: set[dt.date]) -> set[dt.date]:
    """The complete days of one telemetry table, from the days its lake has files for."""
    first, newest = min(ingest_days), max(ingest_days)
    lateness = [dt.timedelta(days=d) for d in range(COMPLETE_DAY_LATENESS + 1)]
    return {
        day
        for day in ingest_days
        if day > first + dt.timedelta(days=COMPLETE_DAY_WARMUP)
        and day + lateness[-1] < newest
        and all(day + d in ingest_days for d in lateness)
    }


def reference_episodes(events: list[Event]) -> dict[str, tuple[str, str | None, int | None]]:
    """episode_id -> (outcome, suppression_reason, time_to_lock_ms)."""
    out = {}
    for i, start in enumerate(events):
        if start.event_type != "lock_zone_exited":
            continue
        result: tuple[str, str | None, int | None] = ("not_locked", None, None)
        for later in events[i + 1 :]:
            if later.event_at - start.event_at > WALKAWAY_WINDOW:
                break
            if later.event_type not in RESOLVING:
                continue
            if later.event_type == "door_locked" and later.lock_source == "walkaway":
                ttl = millis(start.event_at, later.event_at)
                result = ("locked" if ttl <= WALKAWAY_SLO_MS else "locked_late", None, ttl)
            elif later.event_type == "door_locked":
                result = ("manual_lock", None, None)
            elif later.event_type == "walkaway_suppressed":
                result = ("suppressed", later.detail, None)
            break
        out[start.event_id] = result
    return out


# --- fixtures ---------------------------------------------------------------


@pytest.fixture(scope="module")
def lake(built_warehouse) -> Path:
    return built_warehouse.lake


@pytest.fixture(scope="module")
def warehouse(built_warehouse) -> Path:
    """The session's warehouse: built once from a generated lake, every dbt test passed."""
    return built_warehouse.path


@pytest.fixture(scope="module")
def db(warehouse: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def events_by_vin(db: duckdb.DuckDBPyConnection) -> dict[str, list[Event]]:
    rows = db.sql(
        "select event_id, vin, event_at, event_type, lock_source, detail"
        " from staging.stg_raw__access_events"
    ).fetchall()
    grouped: dict[str, list[Event]] = defaultdict(list)
    for row in rows:
        grouped[row[1]].append(Event(*row))
    for events in grouped.values():
        events.sort(key=lambda e: (e.event_at, e.event_id))
    return grouped


def fetch_dicts(db: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    relation = db.sql(sql)
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


# --- sessions, row by row ---------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "sql", "more_than", "outcomes"),
    [
        (
            reference_attempts,
            "select attempt_id, vehicle_key, outcome, latency_ms, handle_wait"
            " from marts.fct_unlock_attempts",
            500,
            {"unlocked", "timed_out"},
        ),
        (
            reference_taps,
            "select tap_id, vehicle_key, outcome, latency_ms from marts.fct_card_taps",
            20,
            set(),
        ),
        (
            reference_episodes,
            "select episode_id, vehicle_key, outcome, suppression_reason, time_to_lock_ms"
            " from marts.fct_walkaway_episodes",
            500,
            {"locked", "not_locked", "suppressed"},
        ),
    ],
    ids=["unlock-attempts", "card-taps", "walkaway-episodes"],
)
def test_every_session_matches_the_definition(
    db, events_by_vin, reference, sql, more_than, outcomes
) -> None:
    """Each fact row equals the reference reading of its vehicle's events, keyed by session id."""
    expected = {
        session_id: (pseudonym(vin), *value)
        for vin, events in events_by_vin.items()
        for session_id, value in reference(events).items()
    }
    actual = {row[0]: tuple(row[1:]) for row in db.sql(sql).fetchall()}
    assert len(expected) > more_than
    # the small fleet reaches these outcomes, so the comparison covers them
    assert {value[1] for value in expected.values()} >= outcomes
    assert actual == expected


def test_every_card_tap_intent_matches_the_definition(db, events_by_vin) -> None:
    expected = {}
    for events in events_by_vin.values():
        expected.update(reference_tap_intents(events))
    actual = dict(db.sql("select tap_id, tap_intent from marts.fct_card_taps").fetchall())
    assert actual == expected
    intents = list(expected.values())
    # most taps are decided; lock taps are about half of them (a card trip ends with one)
    assert intents.count("unknown") < len(intents) / 20
    assert 0.3 < intents.count("lock") / len(intents) < 0.7


# --- daily marts from the facts ---------------------------------------------


def test_unlock_daily_follows_the_attempts(db) -> None:
    by_day: dict[dt.date, list[tuple[str, int | None, bool]]] = defaultdict(list)
    for day, outcome, latency, wait in db.sql(
        "select attempt_date, outcome, latency_ms, handle_wait from marts.fct_unlock_attempts"
    ).fetchall():
        by_day[day].append((outcome, latency, wait))
    mart = {r["metric_date"]: r for r in fetch_dicts(db, "select * from marts.mart_unlock_daily")}
    assert set(mart) == set(by_day)
    for day, rows in by_day.items():
        row = mart[day]
        unlocked = sum(o == "unlocked" for o, _, _ in rows)
        latencies = [lat for o, lat, _ in rows if o == "unlocked"]
        low, high = wilson(unlocked, len(rows))
        assert row["attempts"] == len(rows)
        assert row["unlocked"] == unlocked
        assert close(row["unlock_success_rate"], unlocked / len(rows))
        assert close(row["success_rate_ci_low"], low)
        assert close(row["success_rate_ci_high"], high)
        assert close(row["handle_wait_rate"], sum(w for _, _, w in rows) / len(rows))
        for q in (50, 90, 95, 99):
            assert close(row[f"latency_p{q}_ms"], float(np.percentile(latencies, q)))


def test_walkaway_daily_follows_the_episodes(db) -> None:
    by_day: dict[dt.date, list[tuple[str, int | None]]] = defaultdict(list)
    for day, outcome, ttl in db.sql(
        "select episode_date, outcome, time_to_lock_ms from marts.fct_walkaway_episodes"
    ).fetchall():
        by_day[day].append((outcome, ttl))
    mart = {r["metric_date"]: r for r in fetch_dicts(db, "select * from marts.mart_walkaway_daily")}
    assert set(mart) == set(by_day)
    for day, rows in by_day.items():
        row = mart[day]
        eligible = [o for o, _ in rows if o != "suppressed"]
        locked = eligible.count("locked")
        assert row["episodes"] == len(rows)
        assert row["eligible_episodes"] == len(eligible)
        assert row["locked"] == locked
        assert close(row["walkaway_reliability"], locked / len(eligible))
        low, high = wilson(locked, len(eligible))
        assert close(row["reliability_ci_low"], low)
        assert close(row["reliability_ci_high"], high)
        assert close(
            row["left_unlocked_per_10k"], eligible.count("not_locked") / len(eligible) * 10000
        )
        times = [t for o, t in rows if o in ("locked", "locked_late")]
        assert close(row["time_to_lock_p50_ms"], float(np.percentile(times, 50)))
        assert close(row["time_to_lock_p95_ms"], float(np.percentile(times, 95)))


def test_card_taps_daily_follows_the_taps(db) -> None:
    """The fleet row (every dimension 'All') of the card-tap cube, from the facts."""
    by_day: dict[dt.date, list[tuple[str, int | None, str]]] = defaultdict(list)
    for day, outcome, latency, intent in db.sql(
        "select tap_date, outcome, latency_ms, tap_intent from marts.fct_card_taps"
    ).fetchall():
        by_day[day].append((outcome, latency, intent))
    mart = {
        r["metric_date"]: r
        for r in fetch_dicts(
            db,
            "select * from marts.mart_card_taps_daily_by_slice"
            " where model = 'All' and region = 'All' and firmware_version = 'All'",
        )
    }
    assert set(mart) == set(by_day)
    for day, rows in by_day.items():
        row = mart[day]
        unlocked = sum(o == "unlocked" for o, _, _ in rows)
        unlock_taps = [o for o, _, i in rows if i == "unlock"]
        succeeded = unlock_taps.count("unlocked")
        latencies = [lat for o, lat, _ in rows if o == "unlocked"]
        assert row["taps"] == len(rows)
        assert row["unlocked"] == unlocked
        assert close(row["unlock_rate"], unlocked / len(rows))
        assert row["unlock_taps"] == len(unlock_taps)
        assert row["unlock_taps_succeeded"] == succeeded
        assert row["lock_taps"] == sum(i == "lock" for _, _, i in rows)
        assert close(
            row["unlock_tap_success_rate"], succeeded / len(unlock_taps) if unlock_taps else None
        )
        for q in (50, 95):
            expected = float(np.percentile(latencies, q)) if latencies else None
            assert close(row[f"latency_p{q}_ms"], expected)


def test_daily_marts_flag_the_complete_days_of_the_lake(db, lake) -> None:
    """is_complete_day follows the ingest partitions of the lake (docs/metrics.md)."""
    complete = {}
    for table in ("access_events", "fob_battery_readings"):
        ingest_days = {
            r[0]
            for r in duckdb.sql(
                f"select distinct cast(ingest_date as date) from read_parquet("
                f"'{lake}/raw/{table}/*/*.parquet', hive_partitioning = true)"
            ).fetchall()
        }
        complete[table] = reference_complete_days(ingest_days)
        # the generated lake: only its first two and last two days are partial
        first, newest = min(ingest_days), max(ingest_days)
        assert complete[table] == {
            first + dt.timedelta(days=d) for d in range(2, (newest - first).days - 1)
        }
    marts = {
        "mart_unlock_daily": "access_events",
        "mart_walkaway_daily": "access_events",
        "mart_fob_battery_daily": "fob_battery_readings",
        "mart_unlock_daily_by_slice": "access_events",
        "mart_walkaway_daily_by_slice": "access_events",
        "mart_card_taps_daily_by_slice": "access_events",
        "mart_fob_battery_daily_by_slice": "fob_battery_readings",
    }
    for mart, table in marts.items():
        flags = db.sql(
            f"select metric_date, bool_and(is_complete_day), bool_or(is_complete_day)"
            f" from marts.{mart} group by metric_date"
        ).fetchall()
        assert {day: (all_, any_) for day, all_, any_ in flags} == {
            day: (day in complete[table],) * 2 for day, _, _ in flags
        }, mart
        assert {day for day, flag, _ in flags if flag} == complete[table], mart


def test_sliced_rollup_rows_equal_the_fleet_marts(db) -> None:
    """The all-'All' slice is the fleet; a slice's rate is over its own rows."""
    difference = db.sql(
        """
        select metric_date, attempts, unlocked, latency_p95_ms from marts.mart_unlock_daily
        except
        select metric_date, attempts, unlocked, latency_p95_ms
        from marts.mart_unlock_daily_by_slice
        where model = 'All' and region = 'All' and access_hw = 'All'
            and key_type = 'All' and radio = 'All' and firmware_version = 'All'
        """
    ).fetchall()
    assert difference == []
    # one slice recomputed from the facts
    model, day = db.sql(
        "select model, attempt_date from marts.fct_unlock_attempts group by all"
        " order by count(*) desc limit 1"
    ).fetchone()
    latencies = [
        r[0]
        for r in db.sql(
            "select latency_ms from marts.fct_unlock_attempts"
            f" where model = '{model}' and attempt_date = '{day}' and latency_ms is not null"
        ).fetchall()
    ]
    p95 = db.sql(
        "select latency_p95_ms from marts.mart_unlock_daily_by_slice"
        f" where model = '{model}' and metric_date = '{day}' and region = 'All'"
        " and access_hw = 'All' and key_type = 'All' and radio = 'All'"
        " and firmware_version = 'All'"
    ).fetchone()[0]
    assert close(p95, float(np.percentile(latencies, 95)))


# --- fob battery --------------------------------------------------------------


def test_fob_health_follows_the_readings(db) -> None:
    readings = db.sql(
        "select fob_id, read_at, voltage_mv, temperature_c"
        " from staging.stg_raw__fob_battery_readings"
    ).fetchall()
    by_fob_day: dict[tuple[str, dt.date], list[float]] = defaultdict(list)
    for fob_id, read_at, voltage, temperature in readings:
        comp = voltage if temperature is None else voltage + 1.5 * (25 - float(temperature))
        by_fob_day[(fob_id, read_at.date())].append(comp)
    days_by_fob: dict[str, dict[dt.date, float]] = defaultdict(dict)
    for (fob_id, day), values in by_fob_day.items():
        days_by_fob[fob_id][day] = float(np.median(values))
    actual = {r["fob_key"]: r for r in fetch_dicts(db, "select * from marts.dim_fob_health")}
    assert len(actual) == len(days_by_fob)
    for fob_id, days in days_by_fob.items():
        row = actual[pseudonym(fob_id)]
        last = max(days)
        recent = sorted(days, reverse=True)[:7]
        latest = float(np.median([days[d] for d in recent]))
        window = [d for d in days if (last - d).days < 60]
        slope = None
        if len(window) >= 7:
            x = np.array([(d - last).days for d in window], dtype=float)
            y = np.array([days[d] for d in window])
            slope = float(np.polyfit(x, y, 1)[0])
        days_to_low = (latest - 2500) / -slope if slope is not None and slope < 0 else None
        if latest < 2500:
            band = "replace_now"
        elif (days_to_low is not None and days_to_low <= 30) or latest < 2700:
            band = "replace_soon"
        elif latest < 2850:
            band = "watch"
        else:
            band = "healthy"
        assert row["last_reading_date"] == last
        assert close(row["latest_voltage_comp_mv"], latest, rel=1e-6)
        assert close(row["drain_mv_per_day"], slope, rel=1e-6)
        assert close(row["days_to_low"], days_to_low, rel=1e-6)
        assert row["health_band"] == band


# --- firmware release health -------------------------------------------------


def z_test_p(x1: int, n1: int, x2: int, n2: int) -> float | None:
    if n1 == 0 or n2 == 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return None
    z = (x1 / n1 - x2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return math.erfc(abs(z) / math.sqrt(2))


def test_firmware_release_health_follows_the_facts(db, lake) -> None:
    ingest_days = {
        r[0]
        for r in duckdb.sql(
            f"select distinct cast(ingest_date as date) from read_parquet("
            f"'{lake}/raw/access_events/*/*.parquet', hive_partitioning = true)"
        ).fetchall()
    }
    newest_complete_day = max(reference_complete_days(ingest_days))
    releases = db.sql(
        "select version, released_on from staging.stg_raw__firmware_releases"
    ).fetchall()
    first_seen = dict(
        db.sql(
            "select firmware_version, min(cast(event_at as date))"
            " from staging.stg_raw__access_events group by 1"
        ).fetchall()
    )
    attempts = db.sql(
        "select firmware_version, attempt_date, outcome, latency_ms from marts.fct_unlock_attempts"
    ).fetchall()
    episodes = db.sql(
        "select firmware_version, episode_date, outcome from marts.fct_walkaway_episodes"
    ).fetchall()
    actual = {
        r["firmware_version"]: r
        for r in fetch_dicts(db, "select * from marts.mart_firmware_release_health")
    }
    expected_versions = set()
    for version, released_on in releases:
        earlier = [(d, v) for v, d in releases if d < released_on]
        if not earlier or version not in first_seen:
            continue
        latest_day = max(d for d, _ in earlier)
        predecessor = max(
            (v for d, v in earlier if d == latest_day),
            key=lambda v: tuple(int(p) for p in v.split(".")),
        )
        expected_versions.add(version)
        start = first_seen[version]
        end = start + dt.timedelta(days=13)
        row = actual[version]
        assert (row["predecessor_version"], row["window_start"], row["window_end"]) == (
            predecessor,
            start,
            end,
        )

        def window_attempts(v: str, s: dt.date = start, e: dt.date = end) -> list[tuple]:
            return [a for a in attempts if a[0] == v and s <= a[1] <= e]

        def window_eligible(v: str, s: dt.date = start, e: dt.date = end) -> list[tuple]:
            return [x for x in episodes if x[0] == v and s <= x[1] <= e and x[2] != "suppressed"]

        new, prev = window_attempts(version), window_attempts(predecessor)
        new_e, prev_e = window_eligible(version), window_eligible(predecessor)
        ok_new = sum(a[2] == "unlocked" for a in new)
        ok_prev = sum(a[2] == "unlocked" for a in prev)
        lock_new = sum(x[2] == "locked" for x in new_e)
        lock_prev = sum(x[2] == "locked" for x in prev_e)
        assert (row["attempts_new"], row["attempts_prev"]) == (len(new), len(prev))
        assert (row["eligible_new"], row["eligible_prev"]) == (len(new_e), len(prev_e))
        success_p = z_test_p(ok_new, len(new), ok_prev, len(prev))
        reliability_p = z_test_p(lock_new, len(new_e), lock_prev, len(prev_e))
        assert close(row["success_p_value"], success_p, rel=1e-6)
        assert close(row["reliability_p_value"], reliability_p, rel=1e-6)
        lat_new = [a[3] for a in new if a[3] is not None]
        lat_prev = [a[3] for a in prev if a[3] is not None]
        change = None
        if lat_new and lat_prev:
            change = float(np.percentile(lat_new, 95)) / float(np.percentile(lat_prev, 95)) - 1
        sufficient_a = len(new) >= 1000 and len(prev) >= 1000
        sufficient_e = len(new_e) >= 1000 and len(prev_e) >= 1000
        flagged = (
            (
                sufficient_a
                and success_p is not None
                and success_p < 0.001
                and ok_prev / len(prev) - ok_new / len(new) >= 0.002
            )
            or (sufficient_a and change is not None and change >= 0.10)
            or (
                sufficient_e
                and reliability_p is not None
                and reliability_p < 0.001
                and lock_prev / len(prev_e) - lock_new / len(new_e) >= 0.002
            )
        )
        status = (
            "regression"
            if flagged
            else "insufficient_data"
            if not (sufficient_a and sufficient_e)
            else "ok"
        )
        assert row["status"] == status
        flags = {
            "unlock success rate": row["is_success_regression"],
            "p95 unlock latency": row["is_latency_regression"],
            "walk-away reliability": row["is_reliability_regression"],
        }
        assert row["flagged_by"] == (", ".join(name for name, on in flags.items() if on) or None)
        assert row["window_status"] == ("complete" if end <= newest_complete_day else "in_progress")
    assert set(actual) == expected_versions


# --- data quality ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("table_name", "time_column"),
    [("access_events", "event_at"), ("fob_battery_readings", "read_at")],
)
def test_data_quality_counts_every_raw_row(db, lake, table_name, time_column) -> None:
    raw = dict(
        duckdb.sql(
            f"select cast(ingest_date as date), count(*) from read_parquet("
            f"'{lake}/raw/{table_name}/*/*.parquet', hive_partitioning = true) group by 1"
        ).fetchall()
    )
    kept = {
        day: (rows, late_1h, late_24h, newest)
        for day, rows, late_1h, late_24h, newest in db.sql(
            f"""
            select ingest_date, count(*),
                count(*) filter (where received_at - {time_column} > interval 1 hour),
                count(*) filter (where received_at - {time_column} > interval 24 hour),
                max(received_at)
            from staging.stg_raw__{table_name} group by 1
            """
        ).fetchall()
    }
    mart = {
        r["ingest_date"]: r
        for r in fetch_dicts(
            db, f"select * from marts.mart_data_quality_daily where table_name = '{table_name}'"
        )
    }
    assert mart.keys() == raw.keys()
    for day, rows_read in raw.items():
        row = mart[day]
        assert row["rows_read"] == rows_read
        assert row["rows_kept"] + row["duplicates_dropped"] + row["rows_quarantined"] == rows_read
        rows, late_1h, late_24h, newest = kept.get(day, (0, 0, 0, None))
        assert row["rows_kept"] == rows
        assert row["max_received_at"] == newest
        assert close(row["late_1h_share"], late_1h / rows if rows else None)
        assert close(row["late_24h_share"], late_24h / rows if rows else None)
    reasons = db.sql(
        f"select sum(rows) from marts.mart_quarantine_reasons where table_name = '{table_name}'"
    ).fetchone()[0]
    assert reasons == sum(r["rows_quarantined"] for r in mart.values())


# --- privacy -------------------------------------------------------------------


def test_no_vin_or_key_id_reaches_the_marts(db) -> None:
    secrets = {
        r[0]
        for r in db.sql(
            "select vin from staging.stg_raw__vehicles"
            " union select key_id from staging.stg_raw__keys"
            " union select distinct vin from staging.stg_raw__access_events"
            " union select distinct key_id from staging.stg_raw__access_events"
            " where key_id is not null"
        ).fetchall()
    }
    vin_shape = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
    text_columns = db.sql(
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'marts' and data_type = 'VARCHAR'"
    ).fetchall()
    assert len(text_columns) > 20
    for table, column in text_columns:
        values = {
            r[0] for r in db.sql(f'select distinct "{column}" from marts."{table}"').fetchall()
        }
        leaked = {v for v in values if v is not None and (v in secrets or vin_shape.match(v))}
        assert not leaked, (
            f"marts.{table}.{column} holds identifiers in clear: {sorted(leaked)[:3]}"
        )
    # the restricted schema is the one way back
    mapped = db.sql("select count(*) from restricted.restricted_vehicle_identities").fetchone()[0]
    assert mapped == db.sql("select count(*) from staging.stg_raw__vehicles").fetchone()[0]


# --- the planted stories of the generated lake -------------------------------


def planted(lake: Path, story_id: str) -> dict[str, Any]:
    manifest = json.loads((lake / "manifest.json").read_text())
    return next(story for story in manifest["stories"] if story["id"] == story_id)


def test_firmware_health_flags_the_planted_regression_and_nothing_else(db, lake):
    story = planted(lake, "firmware_uwb_latency_regression")
    statuses = dict(
        db.sql("select firmware_version, status from marts.mart_firmware_release_health").fetchall()
    )
    assert statuses[story["version"]] == "regression"
    assert [v for v, s in statuses.items() if s == "regression"] == [story["version"]]
    # the dashboards name the release and what flagged it: the planted latency regression
    flagged_by = db.sql(
        "select flagged_by from marts.mart_firmware_release_health where firmware_version = ?",
        params=[story["version"]],
    ).fetchone()[0]
    assert flagged_by == "p95 unlock latency"
    # the fleet is big enough for at least one release to be judged (and found fine)
    assert "ok" in statuses.values()


def test_fob_health_shows_the_planted_fast_draining_cell_lot(db, lake):
    story = planted(lake, "fast_draining_cell_lot")
    fastest = db.sql(
        """
        select cell_lot
        from marts.mart_fob_health_by_segment
        where model = 'All' and region = 'All' and cell_lot != 'All'
        order by drain_mv_per_day_median
        limit 1
        """
    ).fetchone()[0]
    assert fastest == story["cell_lot"]


# Each cube's percentiles of one column, and the column.
CUBE_PERCENTILES = {
    "mart_unlock_daily_by_slice": "latency_ms",
    "mart_card_taps_daily_by_slice": "latency_ms",
    "mart_walkaway_daily_by_slice": "time_to_lock_ms",
}


@pytest.mark.parametrize("cube", sorted(CUBE_PERCENTILES))
def test_a_cubes_percentiles_share_one_aggregate_state(built_warehouse, cube):
    """A quantile state holds every value of its group, and a cube has a group per
    grouping set: one state per percentile held the values four times over and made
    the unlock cube the build's peak of memory at 100 M events. The plan DuckDB runs
    for the cube computes one quantile aggregate, for every percentile of it."""
    manifest = json.loads((built_warehouse.target_path / "manifest.json").read_text())
    sql = manifest["nodes"][f"model.access_analytics.{cube}"]["compiled_code"]
    assert sql.count(f"quantile_cont({CUBE_PERCENTILES[cube]}, [") >= 2
    with duckdb.connect(str(built_warehouse.path), read_only=True) as con:
        plan = "\n".join(row[1] for row in con.execute("explain " + sql).fetchall())
    assert plan.count("quantile_cont(") == 1, plan
