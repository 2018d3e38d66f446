"""The benchmark's two baselines for the three fleet daily marts, and the check that they equal.

The fleet daily marts are `mart_unlock_daily`, `mart_walkaway_daily` and
`mart_fob_battery_daily` (models/marts/*): one row per UTC day for the whole fleet, the
all-`All` row of each `*_daily_by_slice` cube. Both baselines compute them straight from
the raw lake's Parquet files, by the rules of the whole dbt chain (docs/raw-contract.md,
docs/metrics.md): validation and quarantine, de-duplication, sessionization, complete days,
continuous percentiles, Wilson intervals.

- `pandas_marts`: "the analyst's notebook", vectorized pandas and numpy over pyarrow reads.
- `floor_marts`: "the floor", one hand-written DuckDB statement (`floor.sql`) in one process,
  no dbt and no intermediate tables.

A baseline's numbers count only when `compare_marts` finds them equal to the built
warehouse's marts (`warehouse_marts`): the same days, integers and flags exactly, floats
within `FLOAT_RTOL` / `FLOAT_ATOL` (both null, or both a number that close).

What the fleet rows do not need: the registries and pseudonyms only label slices. Every
session and fob-day is in the all-`All` row whatever its labels, and the left joins to the
registries never add rows (the build tests `vin` and `key_id` unique), so neither baseline
reads `vehicles`, `keys` or `firmware_releases`.
"""

from __future__ import annotations

import csv
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from access_analytics.dbt_runner import duckdb_memory_limit
from access_analytics.paths import PROJECT_ROOT

THRESHOLDS_CSV = PROJECT_ROOT / "seeds" / "metric_thresholds.csv"
FLOOR_SQL = Path(__file__).with_name("floor.sql")

# Floats (rates, Wilson bounds, percentiles, medians) may differ in the last bits between
# engines (interpolation and sqrt evaluated in another order); counts and flags may not.
FLOAT_RTOL = 1e-9
FLOAT_ATOL = 1e-9

KEY = "metric_date"

# Every column of each fleet mart, in the mart's order, with how it is compared.
FLEET_MARTS: dict[str, dict[str, str]] = {
    "mart_unlock_daily": {
        "metric_date": "key",
        "attempts": "int",
        "unlocked": "int",
        "handle_waits": "int",
        "slow_unlocks": "int",
        "unlock_success_rate": "float",
        "success_rate_ci_low": "float",
        "success_rate_ci_high": "float",
        "latency_p50_ms": "float",
        "latency_p90_ms": "float",
        "latency_p95_ms": "float",
        "latency_p99_ms": "float",
        "handle_wait_rate": "float",
        "slow_unlock_rate": "float",
        "is_complete_day": "bool",
    },
    "mart_walkaway_daily": {
        "metric_date": "key",
        "episodes": "int",
        "eligible_episodes": "int",
        "locked": "int",
        "locked_late": "int",
        "manual_lock": "int",
        "suppressed": "int",
        "not_locked": "int",
        "suppressed_key_inside": "int",
        "suppressed_door_ajar": "int",
        "suppressed_home_exclusion": "int",
        "suppressed_feature_disabled": "int",
        "walkaway_reliability": "float",
        "reliability_ci_low": "float",
        "reliability_ci_high": "float",
        "left_unlocked_per_10k": "float",
        "suppressed_key_inside_share": "float",
        "suppressed_door_ajar_share": "float",
        "suppressed_home_exclusion_share": "float",
        "suppressed_feature_disabled_share": "float",
        "time_to_lock_p50_ms": "float",
        "time_to_lock_p95_ms": "float",
        "is_complete_day": "bool",
    },
    "mart_fob_battery_daily": {
        "metric_date": "key",
        "fobs_reporting": "int",
        "voltage_comp_mv_median": "float",
        "fobs_below_2700": "int",
        "share_below_2700": "float",
        "is_complete_day": "bool",
    },
}

SUPPRESSION_REASONS = ("key_inside", "door_ajar", "home_exclusion", "feature_disabled")

US_PER_S = 1_000_000
US_PER_DAY = 86_400 * US_PER_S


def load_thresholds(path: Path = THRESHOLDS_CSV) -> dict[str, float]:
    """The one row of the metric_thresholds seed, as numbers (ints where the value is whole)."""
    with path.open(newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    values: dict[str, float] = {}
    for name, text in row.items():
        number = float(text)
        values[name] = int(number) if number.is_integer() and "." not in text else number
    return values


# --------------------------------------------------------------------------------------
# The raw contract, as the notebook states it (models/staging/_staging__sources.yml)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawTable:
    name: str
    id_column: str
    time_column: str
    # column -> Arrow type the notebook reads it as
    columns: dict[str, pa.DataType]
    required: tuple[str, ...]
    accepted_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    patterns: dict[str, str] = field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)


ACCESS_EVENTS = RawTable(
    name="access_events",
    id_column="event_id",
    time_column="event_at",
    columns={
        "event_id": pa.string(),
        "vin": pa.string(),
        "event_at": pa.timestamp("us"),
        "received_at": pa.timestamp("us"),
        "event_type": pa.string(),
        "key_type": pa.string(),
        "radio": pa.string(),
        "rssi_dbm": pa.int16(),
        "distance_m": pa.float32(),
        "lock_source": pa.string(),
        "detail": pa.string(),
        "firmware_version": pa.string(),
    },
    required=("event_id", "vin", "event_at", "received_at", "event_type", "firmware_version"),
    accepted_values={
        "event_type": (
            "key_detected",
            "unlock_zone_entered",
            "auth_succeeded",
            "auth_failed",
            "handle_pulled",
            "door_unlocked",
            "door_opened",
            "door_closed",
            "lock_zone_exited",
            "walkaway_suppressed",
            "door_locked",
            "nfc_tapped",
        ),
        "key_type": ("phone", "fob", "card"),
        "radio": ("ble", "uwb", "nfc", "lf"),
        "lock_source": ("passive", "card", "app", "fob_button", "walkaway", "drive_away"),
    },
    patterns={"event_id": "[0-9a-f]{32}", "vin": "[A-HJ-NPR-Z0-9]{17}"},
    ranges={"rssi_dbm": (-127, 20), "distance_m": (0, 100)},
)

FOB_BATTERY_READINGS = RawTable(
    name="fob_battery_readings",
    id_column="reading_id",
    time_column="read_at",
    columns={
        "reading_id": pa.string(),
        "vin": pa.string(),
        "fob_id": pa.string(),
        "read_at": pa.timestamp("us"),
        "received_at": pa.timestamp("us"),
        "voltage_mv": pa.int16(),
        "temperature_c": pa.float32(),
        "firmware_version": pa.string(),
    },
    required=(
        "reading_id",
        "vin",
        "fob_id",
        "read_at",
        "received_at",
        "voltage_mv",
        "firmware_version",
    ),
    patterns={"reading_id": "[0-9a-f]{32}", "vin": "[A-HJ-NPR-Z0-9]{17}"},
    ranges={"voltage_mv": (1800, 3400), "temperature_c": (-40, 60)},
)

FUTURE_EVENT_TOLERANCE_US = 300 * US_PER_S
TOO_LATE_AFTER_US = 30 * US_PER_DAY

_PARTITION = re.compile(r"^ingest_date=(\d{4}-\d{2}-\d{2})$")


# --------------------------------------------------------------------------------------
# The analyst's notebook: pandas
# --------------------------------------------------------------------------------------


def _read_raw(lake: Path, table: RawTable) -> pd.DataFrame:
    """Every row of every file of a raw table, with its file, row position and ingest day.

    Files are read with pyarrow (pandas' Parquet engine) and concatenated once. Timestamps
    become int64 microseconds (exact, and free of pandas' nanosecond range); a null is kept
    apart from NaN for the range rule through `<column>__null` masks; the id and VIN
    patterns are checked by the Arrow string kernels pandas' `str.fullmatch` uses for
    Arrow strings (`<column>__ok`). `file_rank` is the file's place in the order of
    lake-relative paths (the de-duplication tie-break).
    """
    folder = lake / "raw" / table.name
    files = sorted(path.relative_to(lake).as_posix() for path in folder.glob("*/*.parquet"))
    if not files:
        raise ValueError(f"no files under {folder}")
    schema = pa.schema(table.columns)
    parts = []
    for rank, relative in enumerate(files):
        match = _PARTITION.match(Path(relative).parent.name)
        if match is None:
            raise ValueError(f"{relative}: not in an ingest_date=YYYY-MM-DD partition")
        part = pq.read_table(lake / relative, columns=list(table.columns)).cast(schema)
        rows = part.num_rows
        part = part.append_column("file_rank", pa.array(np.full(rows, rank, dtype=np.int32)))
        part = part.append_column("source_row_number", pa.array(np.arange(rows, dtype=np.int64)))
        day = np.datetime64(match.group(1), "D").astype(np.int32)
        part = part.append_column("ingest_day", pa.array(np.full(rows, day, dtype=np.int32)))
        parts.append(part)
    arrow = pa.concat_tables(parts)
    data: dict[str, object] = {}
    for name, dtype in table.columns.items():
        column = arrow.column(name)
        if pa.types.is_timestamp(dtype) or pa.types.is_integer(dtype):
            data[name] = column.cast(pa.int64()).fill_null(0).to_numpy()
            data[name + "__null"] = column.is_null().to_numpy()
        elif pa.types.is_floating(dtype):
            data[name] = column.to_numpy().astype(np.float64)
            data[name + "__null"] = column.is_null().to_numpy()
        else:
            data[name] = column.to_pandas()
        if name in table.patterns:
            full = pc.match_substring_regex(column, f"^(?:{table.patterns[name]})$")
            data[name + "__ok"] = full.fill_null(True).to_numpy()
    for name in ("file_rank", "source_row_number", "ingest_day"):
        data[name] = arrow.column(name).to_numpy()
    return pd.DataFrame(data)


def _is_valid(raw: pd.DataFrame, table: RawTable) -> np.ndarray:
    """True for rows that break no contract rule (the quarantine reasons, in any order)."""
    broken = np.zeros(len(raw), dtype=bool)
    for name in table.required:
        if name + "__null" in raw:
            broken |= raw[name + "__null"].to_numpy()
        else:  # text: null or the empty string (no trimming)
            values = raw[name]
            broken |= (values.isna() | (values == "")).to_numpy()
    for name, accepted in table.accepted_values.items():
        values = raw[name]
        broken |= (values.notna() & ~values.isin(accepted)).to_numpy()
    for name in table.patterns:
        broken |= ~raw[name + "__ok"].to_numpy()  # null passes: rule 1 decides on it
    for name, (low, high) in table.ranges.items():
        values = raw[name].to_numpy()
        inside = (values >= low) & (values <= high)  # NaN is inside no range
        broken |= ~raw[name + "__null"].to_numpy() & ~inside
    happened = raw[table.time_column].to_numpy()
    received = raw["received_at"].to_numpy()
    timed = ~(raw[table.time_column + "__null"].to_numpy() | raw["received_at__null"].to_numpy())
    broken |= timed & (happened > received + FUTURE_EVENT_TOLERANCE_US)
    broken |= timed & (happened < received - TOO_LATE_AFTER_US)
    return ~broken


def _kept(raw: pd.DataFrame, table: RawTable) -> pd.DataFrame:
    """The valid rows, one per id: earliest received_at, then file path, then row in file.

    The numeric tie-break order is sorted once (no string sort); the first row of each id
    in that order is its kept copy.
    """
    valid = raw[_is_valid(raw, table)]
    order = np.lexsort(
        (
            valid["source_row_number"].to_numpy(),
            valid["file_rank"].to_numpy(),
            valid["received_at"].to_numpy(),
        )
    )
    return valid.iloc[order].drop_duplicates(table.id_column, keep="first")


def _complete_days(ingest_days: np.ndarray, thresholds: Mapping[str, float]) -> set[np.datetime64]:
    """The complete UTC days of a table from the ingest days holding rows (int_complete_days)."""
    days = np.unique(ingest_days.astype("datetime64[D]"))
    if len(days) == 0:
        return set()
    warmup = np.timedelta64(int(thresholds["complete_day_warmup_days"]), "D")
    lateness = int(thresholds["complete_day_lateness_days"])
    present = set(days.tolist())
    complete = set()
    for day in days:
        covered = all((day + np.timedelta64(k, "D")).item() in present for k in range(lateness + 1))
        if day > days[0] + warmup and day + np.timedelta64(lateness, "D") < days[-1] and covered:
            complete.add(day)
    return complete


def _wilson(k: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    k = k.astype(np.float64)
    n = n.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        root = z * np.sqrt(z * z + 4.0 * k * (n - k) / n)
        low = np.maximum(0.0, (2.0 * k + z * z - root) / (2.0 * (n + z * z)))
        high = np.minimum(1.0, (2.0 * k + z * z + root) / (2.0 * (n + z * z)))
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == n, 1.0, high)
    low = np.where(n == 0, np.nan, low)
    high = np.where(n == 0, np.nan, high)
    return low, high


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    denominator = denominator.astype(np.float64)
    return numerator.astype(np.float64) / denominator.where(denominator != 0)


def _millis(start_us: np.ndarray, end_us: np.ndarray) -> np.ndarray:
    """Whole milliseconds between two microsecond times, truncated toward zero."""
    diff = end_us - start_us
    return np.sign(diff) * (np.abs(diff) // 1000)


def _session_frame(kept: pd.DataFrame, mask: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """The kept events a session type reads, ordered by vehicle, then event_at, then event_id."""
    events = kept.loc[mask, ["vin", "event_id", "event_at", "event_type", *columns]]
    return events.sort_values(["vin", "event_at", "event_id"], ignore_index=True)


def _unlock_daily(kept: pd.DataFrame, thresholds: Mapping[str, float]) -> pd.DataFrame:
    event_type = kept["event_type"]
    mask = (
        event_type.isin(["unlock_zone_entered", "handle_pulled"])
        | ((event_type == "door_unlocked") & (kept["lock_source"] == "passive"))
    ).to_numpy()
    events = _session_frame(kept, mask, [])
    n = len(events)
    position = np.arange(n)
    at = events["event_at"].to_numpy()
    vin = events["vin"].to_numpy()
    kind = events["event_type"].to_numpy()
    is_start = kind == "unlock_zone_entered"
    # every event belongs to the latest start at or before it (in event order) of its vehicle
    start = np.maximum.accumulate(np.where(is_start, position, -1))
    has_start = start >= 0
    start_safe = np.where(has_start, start, 0)
    same_vehicle = has_start & (vin[start_safe] == vin)
    limit = at[start_safe] + int(thresholds["unlock_timeout_s"]) * US_PER_S
    in_window = same_vehicle & ~is_start & (at <= limit)

    starts = position[is_start]
    first_unlock = np.full(n, n, dtype=np.int64)
    first_handle = np.full(n, n, dtype=np.int64)
    unlocks = in_window & (kind == "door_unlocked")
    handles = in_window & (kind == "handle_pulled")
    np.minimum.at(first_unlock, start[unlocks], position[unlocks])
    np.minimum.at(first_handle, start[handles], position[handles])
    unlock_pos = first_unlock[starts]
    handle_pos = first_handle[starts]
    unlocked = unlock_pos < n
    # events are in event_at order, so the first unlock is also the earliest one
    latency = np.where(
        unlocked, _millis(at[starts], at[np.where(unlocked, unlock_pos, 0)]), 0
    ).astype(np.float64)
    latency[~unlocked] = np.nan
    handle_wait = (handle_pos < n) & (~unlocked | (handle_pos < unlock_pos))
    attempts = pd.DataFrame(
        {
            "metric_date": (at[starts] // US_PER_DAY).astype("datetime64[D]"),
            "unlocked": unlocked,
            "latency_ms": latency,
            "handle_wait": handle_wait,
            "slow": ~unlocked | (latency > thresholds["slow_unlock_ms"]),
        }
    )
    grouped = attempts.groupby("metric_date", sort=True)
    daily = grouped.agg(
        attempts=("unlocked", "size"),
        unlocked=("unlocked", "sum"),
        handle_waits=("handle_wait", "sum"),
        slow_unlocks=("slow", "sum"),
    )
    percentiles = grouped["latency_ms"].quantile([0.5, 0.9, 0.95, 0.99]).unstack()
    for fraction, name in zip(
        [0.5, 0.9, 0.95, 0.99],
        ["latency_p50_ms", "latency_p90_ms", "latency_p95_ms", "latency_p99_ms"],
        strict=True,
    ):
        daily[name] = percentiles[fraction]
    daily["unlock_success_rate"] = _ratio(daily["unlocked"], daily["attempts"])
    low, high = _wilson(
        daily["unlocked"].to_numpy(), daily["attempts"].to_numpy(), thresholds["wilson_z"]
    )
    daily["success_rate_ci_low"] = low
    daily["success_rate_ci_high"] = high
    daily["handle_wait_rate"] = _ratio(daily["handle_waits"], daily["attempts"])
    daily["slow_unlock_rate"] = _ratio(daily["slow_unlocks"], daily["attempts"])
    return daily.reset_index()


def _walkaway_daily(kept: pd.DataFrame, thresholds: Mapping[str, float]) -> pd.DataFrame:
    mask = (
        kept["event_type"]
        .isin(["lock_zone_exited", "unlock_zone_entered", "door_locked", "walkaway_suppressed"])
        .to_numpy()
    )
    events = _session_frame(kept, mask, ["lock_source", "detail"])
    at = events["event_at"].to_numpy()
    vin = events["vin"].to_numpy()
    kind = events["event_type"].to_numpy()
    # the deciding event is the vehicle's next one of these types, if inside the window
    next_same_vehicle = np.append(vin[1:] == vin[:-1], False)
    next_at = np.append(at[1:], 0)
    next_kind = np.append(kind[1:], None)
    next_source = np.append(events["lock_source"].to_numpy()[1:], None)
    next_detail = np.append(events["detail"].to_numpy()[1:], None)
    starts = kind == "lock_zone_exited"
    decided = (
        starts
        & next_same_vehicle
        & (next_at <= at + int(thresholds["walkaway_window_s"]) * US_PER_S)
    )
    locked_by = decided & (next_kind == "door_locked")
    walkaway_lock = locked_by & (next_source == "walkaway")
    millis = _millis(at, next_at)
    on_time = walkaway_lock & (millis <= thresholds["walkaway_lock_slo_ms"])
    suppressed = decided & (next_kind == "walkaway_suppressed")
    outcome = np.select(
        [on_time, walkaway_lock, locked_by, suppressed],
        ["locked", "locked_late", "manual_lock", "suppressed"],
        default="not_locked",
    )
    reason = np.where(suppressed, next_detail, None)
    time_to_lock = np.where(walkaway_lock, millis, 0).astype(np.float64)
    time_to_lock[~walkaway_lock] = np.nan
    episodes = pd.DataFrame(
        {
            "metric_date": (at // US_PER_DAY).astype("datetime64[D]"),
            "outcome": outcome,
            "reason": reason,
            "time_to_lock_ms": time_to_lock,
        }
    )[starts]
    for name in ["locked", "locked_late", "manual_lock", "suppressed", "not_locked"]:
        episodes[name] = episodes["outcome"] == name
    episodes["eligible_episodes"] = episodes["outcome"] != "suppressed"
    for name in SUPPRESSION_REASONS:
        episodes["suppressed_" + name] = episodes["reason"] == name
    counted = [
        "eligible_episodes",
        "locked",
        "locked_late",
        "manual_lock",
        "suppressed",
        "not_locked",
        *("suppressed_" + name for name in SUPPRESSION_REASONS),
    ]
    grouped = episodes.groupby("metric_date", sort=True)
    daily = grouped[counted].sum()
    daily.insert(0, "episodes", grouped.size())
    daily["walkaway_reliability"] = _ratio(daily["locked"], daily["eligible_episodes"])
    low, high = _wilson(
        daily["locked"].to_numpy(), daily["eligible_episodes"].to_numpy(), thresholds["wilson_z"]
    )
    daily["reliability_ci_low"] = low
    daily["reliability_ci_high"] = high
    daily["left_unlocked_per_10k"] = _ratio(daily["not_locked"] * 10000, daily["eligible_episodes"])
    for name in SUPPRESSION_REASONS:
        daily[f"suppressed_{name}_share"] = _ratio(daily["suppressed_" + name], daily["episodes"])
    percentiles = grouped["time_to_lock_ms"].quantile([0.5, 0.95]).unstack()
    daily["time_to_lock_p50_ms"] = percentiles[0.5]
    daily["time_to_lock_p95_ms"] = percentiles[0.95]
    return daily.reset_index()


def _fob_battery_daily(kept: pd.DataFrame, thresholds: Mapping[str, float]) -> pd.DataFrame:
    temperature = kept["temperature_c"].to_numpy()  # float32 widened exactly; null is NaN
    voltage = kept["voltage_mv"].to_numpy().astype(np.float64)
    compensated = voltage + thresholds["battery_temp_coeff_mv_per_c"] * (
        thresholds["battery_reference_temp_c"] - temperature
    )
    compensated = np.where(kept["temperature_c__null"].to_numpy(), voltage, compensated)
    readings = pd.DataFrame(
        {
            "fob_id": kept["fob_id"].to_numpy(),
            "metric_date": (kept["read_at"].to_numpy() // US_PER_DAY).astype("datetime64[D]"),
            "voltage_comp_mv": compensated,
        }
    )
    fob_days = readings.groupby(["fob_id", "metric_date"], sort=False)["voltage_comp_mv"].median()
    fob_days = fob_days.reset_index()
    fob_days["below"] = fob_days["voltage_comp_mv"] < thresholds["battery_replace_soon_mv"]
    grouped = fob_days.groupby("metric_date", sort=True)
    daily = grouped.agg(
        fobs_reporting=("below", "size"),
        voltage_comp_mv_median=("voltage_comp_mv", "median"),
        fobs_below_2700=("below", "sum"),
    )
    daily["share_below_2700"] = _ratio(daily["fobs_below_2700"], daily["fobs_reporting"])
    return daily.reset_index()


def _finish(daily: pd.DataFrame, mart: str, complete: set[np.datetime64]) -> pd.DataFrame:
    days = daily["metric_date"].to_numpy().astype("datetime64[D]")
    daily["is_complete_day"] = np.array([day in complete for day in days], dtype=bool)
    columns = FLEET_MARTS[mart]
    for name, kind in columns.items():
        if kind == "int":
            daily[name] = daily[name].astype(np.int64)
    return daily[list(columns)]


def pandas_marts(
    lake: Path, thresholds: Mapping[str, float] | None = None
) -> dict[str, pd.DataFrame]:
    """The analyst's notebook: the three fleet daily marts with pandas, from the lake's Parquet."""
    thresholds = thresholds or load_thresholds()
    raw_events = _read_raw(Path(lake), ACCESS_EVENTS)
    event_days = _complete_days(raw_events["ingest_day"].to_numpy(), thresholds)
    events = _kept(raw_events, ACCESS_EVENTS)
    del raw_events
    marts = {
        "mart_unlock_daily": _finish(
            _unlock_daily(events, thresholds), "mart_unlock_daily", event_days
        ),
        "mart_walkaway_daily": _finish(
            _walkaway_daily(events, thresholds), "mart_walkaway_daily", event_days
        ),
    }
    del events
    raw_readings = _read_raw(Path(lake), FOB_BATTERY_READINGS)
    reading_days = _complete_days(raw_readings["ingest_day"].to_numpy(), thresholds)
    readings = _kept(raw_readings, FOB_BATTERY_READINGS)
    del raw_readings
    marts["mart_fob_battery_daily"] = _finish(
        _fob_battery_daily(readings, thresholds), "mart_fob_battery_daily", reading_days
    )
    return marts


# --------------------------------------------------------------------------------------
# The floor: one DuckDB statement
# --------------------------------------------------------------------------------------


def floor_sql(lake: Path, thresholds: Mapping[str, float] | None = None) -> str:
    """floor.sql with the lake path and the seed's thresholds filled in."""
    thresholds = thresholds or load_thresholds()
    lake_text = Path(lake).resolve().as_posix()
    if "'" in lake_text:
        raise ValueError(f"lake path {lake_text!r} holds a quote")
    template = string.Template(FLOOR_SQL.read_text())
    values = {
        name: f"cast({value!r} as double)" if isinstance(value, float) else str(value)
        for name, value in thresholds.items()
    }
    return template.substitute({**values, "lake": lake_text})


def floor_connection(spill_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB under the build's memory limit, spilling to `spill_dir` past
    it: the floor and the build it is compared with get the same memory."""
    config = {"memory_limit": duckdb_memory_limit()}
    if spill_dir is not None:
        config["temp_directory"] = str(spill_dir)
    return duckdb.connect(config=config)


def floor_marts(
    lake: Path,
    thresholds: Mapping[str, float] | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
    spill_dir: Path | None = None,
) -> dict[str, pd.DataFrame]:
    """The floor: the three fleet daily marts from one DuckDB statement over the lake's Parquet.

    The statement returns the three marts stacked (`union all by name`, a `mart` column
    saying which); each is split off with its own columns. Without `connection` it runs
    on a `floor_connection(spill_dir)`.
    """
    own = connection is None
    con = connection or floor_connection(spill_dir)
    try:
        stacked = con.execute(floor_sql(lake, thresholds)).df()
    finally:
        if own:
            con.close()
    marts = {}
    for mart, columns in FLEET_MARTS.items():
        rows = stacked[stacked["mart"] == mart]
        marts[mart] = rows[list(columns)].sort_values(KEY, ignore_index=True)
    return marts


# --------------------------------------------------------------------------------------
# Ours, and the check
# --------------------------------------------------------------------------------------


def warehouse_marts(warehouse: Path) -> dict[str, pd.DataFrame]:
    """The three fleet daily marts of a built warehouse (schema `marts`)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            mart: con.execute(f"select {', '.join(columns)} from marts.{mart} order by {KEY}").df()
            for mart, columns in FLEET_MARTS.items()
        }


@dataclass
class ColumnDifference:
    column: str
    rows: int  # rows (days present on both sides) whose values differ
    max_abs_diff: float | None  # floats: the largest absolute difference among them
    examples: list[tuple[str, object, object]]  # (day, expected, actual), a few


@dataclass
class MartComparison:
    mart: str
    rows_expected: int
    rows_actual: int
    missing_days: list[str]  # in ours, not in the baseline
    extra_days: list[str]  # in the baseline, not in ours
    missing_columns: list[str]
    columns: list[ColumnDifference]
    max_float_diff: float  # largest absolute float difference over every compared value

    @property
    def equal(self) -> bool:
        return not (self.missing_days or self.extra_days or self.missing_columns or self.columns)

    def summary(self) -> str:
        if self.equal:
            return (
                f"{self.mart}: equal ({self.rows_expected} days; largest float difference "
                f"{self.max_float_diff:.3g})"
            )
        lines = [f"{self.mart}: DIFFERENT ({self.rows_expected} days ours, {self.rows_actual})"]
        if self.missing_days:
            lines.append(f"  days missing: {self.missing_days[:10]}")
        if self.extra_days:
            lines.append(f"  days extra: {self.extra_days[:10]}")
        if self.missing_columns:
            lines.append(f"  columns missing: {self.missing_columns}")
        for diff in self.columns:
            detail = f", max |diff| {diff.max_abs_diff:.3g}" if diff.max_abs_diff else ""
            lines.append(f"  {diff.column}: {diff.rows} rows differ{detail}; e.g. {diff.examples}")
        return "\n".join(lines)


def _day_keys(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame[KEY]).dt.strftime("%Y-%m-%d")


def compare_mart(mart: str, expected: pd.DataFrame, actual: pd.DataFrame) -> MartComparison:
    """Compare a baseline's mart (`actual`) with ours (`expected`), column by column.

    Equal means: the same set of days (each once); every `int` and `bool` column exactly
    equal; every `float` column null on the same rows and elsewhere within
    |a - b| <= FLOAT_ATOL + FLOAT_RTOL * |b|.
    """
    columns = FLEET_MARTS[mart]
    left = expected.assign(**{KEY: _day_keys(expected)}).set_index(KEY)
    right = actual.assign(**{KEY: _day_keys(actual)}).set_index(KEY)
    if not left.index.is_unique or not right.index.is_unique:
        raise ValueError(f"{mart}: a day occurs more than once")
    missing_days = sorted(set(left.index) - set(right.index))
    extra_days = sorted(set(right.index) - set(left.index))
    missing_columns = [c for c in columns if c != KEY and c not in right.columns]
    common = left.index.intersection(right.index).sort_values()
    differences = []
    max_float = 0.0
    for name, kind in columns.items():
        if kind == "key" or name in missing_columns:
            continue
        a = left.loc[common, name]
        b = right.loc[common, name]
        if kind == "float":
            av = pd.to_numeric(a, errors="coerce").to_numpy(dtype=np.float64)
            bv = pd.to_numeric(b, errors="coerce").to_numpy(dtype=np.float64)
            both = ~np.isnan(av) & ~np.isnan(bv)
            gap = np.where(both, np.abs(av - bv), 0.0)
            if both.any():
                max_float = max(max_float, float(gap.max()))
            bad = (np.isnan(av) != np.isnan(bv)) | (
                both & (gap > FLOAT_ATOL + FLOAT_RTOL * np.abs(av))
            )
            worst = float(gap[bad].max()) if bad.any() else None
        else:
            na, nb = a.isna().to_numpy(), b.isna().to_numpy()
            cast = bool if kind == "bool" else np.int64
            av = np.where(na, 0, a.fillna(0)).astype(cast)
            bv = np.where(nb, 0, b.fillna(0)).astype(cast)
            bad = (na != nb) | (av != bv)
            worst = None
        if bad.any():
            days = common[bad]
            examples = [(d, left.at[d, name], right.at[d, name]) for d in days[:3]]
            differences.append(ColumnDifference(name, int(bad.sum()), worst, examples))
    return MartComparison(
        mart=mart,
        rows_expected=len(left),
        rows_actual=len(right),
        missing_days=missing_days,
        extra_days=extra_days,
        missing_columns=missing_columns,
        columns=differences,
        max_float_diff=max_float,
    )


def compare_marts(
    expected: Mapping[str, pd.DataFrame], actual: Mapping[str, pd.DataFrame]
) -> list[MartComparison]:
    """compare_mart for each of the three fleet marts."""
    return [compare_mart(mart, expected[mart], actual[mart]) for mart in FLEET_MARTS]


def comparisons_equal(comparisons: list[MartComparison]) -> bool:
    return all(comparison.equal for comparison in comparisons)
