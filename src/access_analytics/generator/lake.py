"""Generate a whole raw lake: day by day, memory bounded, deterministic."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import Counter
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from access_analytics.generator import model as m
from access_analytics.generator.arrow_util import (
    ACCESS_EVENTS_SCHEMA,
    FIRMWARE_RELEASES_SCHEMA,
    FOB_BATTERY_READINGS_SCHEMA,
    KEYS_SCHEMA,
    VEHICLES_SCHEMA,
    coded_strings,
    dictionary,
    hex_strings,
    random_bytes,
    timestamps,
)
from access_analytics.generator.config import GeneratorConfig, GeneratorError, parse_date
from access_analytics.generator.day import (
    DETAILS,
    EVENT_TYPES,
    LOCK_SOURCES,
    RADIOS,
    DayData,
    simulate_day,
)
from access_analytics.generator.faults import (
    EVENTS,
    READINGS,
    REASONS,
    Patch,
    Rows,
    TableKind,
    duplicate_patch,
    duplicate_rows,
    split_faulty,
)
from access_analytics.generator.fleet import KEY_TYPES, Fleet, build_fleet
from access_analytics.generator.units import DAY_US, HOUR_US, S
from access_analytics.generator.writer import PartitionedWriter, epoch_day, write_parquet

GENERATOR_VERSION = 1


def generate_lake(lake: Path | str, *, progress: bool = False, **options: Any) -> dict[str, Any]:
    """Write a raw lake that follows the raw contract under `lake` and return its manifest.

    `options` are the fields of GeneratorConfig (vehicles, days, start_date as a date
    or YYYY-MM-DD, seed, the fault rates, files_per_partition, overwrite); any not
    given keeps its default. Raises GeneratorError for bad arguments or an unusable
    lake directory.
    """
    if isinstance(options.get("start_date"), str):
        options["start_date"] = parse_date(options["start_date"])
    unknown = set(options) - {field.name for field in fields(GeneratorConfig)}
    if unknown:
        raise TypeError(f"generate_lake() got unknown options: {sorted(unknown)}")
    config = GeneratorConfig(lake=Path(lake), **options)
    config.validate()
    _prepare_lake(config.lake, config.overwrite)
    try:
        return _generate(config, progress)
    except OSError as error:
        raise GeneratorError(f"cannot write the lake under {config.lake}: {error}") from None


def _prepare_lake(lake: Path, overwrite: bool) -> None:
    if lake.exists() and not lake.is_dir():
        raise GeneratorError(f"lake path {lake} exists and is not a directory")
    if lake.is_dir() and any(lake.iterdir()):
        if not overwrite:
            raise GeneratorError(
                f"lake directory {lake} is not empty; pass --overwrite to replace its lake"
            )
        # only what a generation writes is removed; anything else in the folder stays
        shutil.rmtree(lake / "raw", ignore_errors=True)
        (lake / "manifest.json").unlink(missing_ok=True)
    try:
        lake.mkdir(parents=True, exist_ok=True)
        probe = lake / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or str(error)
        raise GeneratorError(f"lake directory {lake} is not writable: {reason}") from None


class _Tally:
    """Counts per telemetry table for the manifest."""

    def __init__(self) -> None:
        self.rows = 0
        self.duplicate_copies = 0
        self.invalid = Counter[str]()
        self.boundary = 0
        self.late_1h = 0
        self.late_24h = 0
        self.unknown_firmware = 0
        self.not_yet_received = 0

    def add(self, rows: Rows, dropped: int) -> None:
        self.rows += len(rows)
        self.not_yet_received += dropped
        self.duplicate_copies += int(rows["copy"].sum())
        reason = rows["reason"]
        codes, counts = np.unique(reason[reason >= 0], return_counts=True)
        for code, count in zip(codes, counts, strict=True):
            self.invalid[REASONS[code]] += int(count)
        self.boundary += int(rows["boundary"].sum())
        lag = rows["route_us"] - rows["event_us"]
        self.late_1h += int((lag > HOUR_US).sum())
        self.late_24h += int((lag > 24 * HOUR_US).sum())
        self.unknown_firmware += int(rows["unknown_firmware"].sum())

    def as_dict(self, writer: PartitionedWriter, name: str) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "files": writer.files[name],
            "partitions": len(writer.partitions[name]),
            "first_ingest_date": min(writer.partitions[name], default=None),
            "last_ingest_date": max(writer.partitions[name], default=None),
            "duplicate_copies": self.duplicate_copies,
            "invalid_rows": sum(self.invalid.values()),
            "invalid_rows_by_reason": {r: self.invalid.get(r, 0) for r in REASONS},
            "boundary_valid_rows": self.boundary,
            "late_over_1h_rows": self.late_1h,
            "late_over_24h_rows": self.late_24h,
            "unknown_firmware_rows": self.unknown_firmware,
            "not_yet_received_rows": self.not_yet_received,
        }


def _generate(config: GeneratorConfig, show_progress: bool) -> dict[str, Any]:
    fleet = build_fleet(config.vehicles, config.start_date, config.days, config.seed)
    tables = _TableBuilder(fleet)
    writer = PartitionedWriter(config.lake, config.files_per_partition)
    tallies = {EVENTS.name: _Tally(), READINGS.name: _Tally()}
    # The lake is a snapshot taken at the end of the day after the last simulated local day
    # (evening trips in the Americas end after midnight UTC); rows that would arrive later
    # are not in it yet.
    cutoff_us = (epoch_day(config.start_date) + config.days + 1) * DAY_US

    columns = [
        TextColumn("[bold]generating[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, disable=not show_progress, transient=False) as progress:
        task = progress.add_task(str(config.lake), total=config.days)
        for day in range(config.days):
            data = simulate_day(
                fleet,
                day,
                np.random.default_rng([config.seed, 2, day]),
                late_rate=config.late_rate,
                very_late_rate=config.very_late_rate,
                skew_rate=config.skew_rate,
                unknown_firmware_rate=config.unknown_firmware_rate,
            )
            rng = np.random.default_rng([config.seed, 3, day])
            for kind, to_table in ((EVENTS, tables.events), (READINGS, tables.readings)):
                rows = _rows(kind, fleet, data, rng)
                keep, patch = split_faulty(rows, kind, config.invalid_rate, rng, to_table)
                out, route_us, is_copy = duplicate_rows(rows, keep, config.duplicate_rate, rng)
                patch = duplicate_patch(patch, config.duplicate_rate, rng)
                rows, dropped = _by_partition(rows, out, route_us, is_copy, cutoff_us)
                order, dropped_patch = _patch_order(patch, cutoff_us)
                patch = patch.take(order)
                tallies[kind.name].add(rows, dropped)
                tallies[kind.name].add(patch.shadow, dropped_patch)
                writer.add(kind.name, to_table(rows), rows["route_us"] // DAY_US)
                writer.add(kind.name, patch.table, patch.shadow["route_us"] // DAY_US)
            # local day `day` can still add rows to its own UTC date and later ones only
            writer.flush(before_day=epoch_day(config.start_date) + day)
            progress.advance(task)
        writer.flush()
    writer.close()

    snapshot_dates = _write_registries(config, fleet)
    manifest = _manifest(config, fleet, writer, tallies, snapshot_dates)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (config.lake / "manifest.json").write_text(text, encoding="utf-8")
    return manifest


def _by_partition(
    rows: Rows, out: np.ndarray, route_us: np.ndarray, is_copy: np.ndarray, cutoff_us: int
) -> tuple[Rows, int]:
    """The output rows grouped by ingest day (generation order kept inside a day), without
    late arrivals that the server has not received by the cutoff; one take for all columns."""
    keep = np.nonzero(route_us < cutoff_us)[0]
    day = route_us[keep] // DAY_US
    # a stable sort of small integers is a radix sort
    order = keep[np.argsort((day - day.min(initial=0)).astype(np.uint16), kind="stable")]
    replaced = {"route_us": route_us[order], "copy": is_copy[order]}
    source = out[order]
    result = Rows({k: v[source] for k, v in rows.columns.items() if k not in replaced})
    result.columns.update(replaced)
    return result, len(out) - len(keep)


def _patch_order(patch: Patch, cutoff_us: int) -> tuple[np.ndarray, int]:
    route = patch.shadow["route_us"]
    keep = np.nonzero(route < cutoff_us)[0]
    order = keep[np.argsort(route[keep] // DAY_US, kind="stable")]
    return order, len(route) - len(keep)


def _rows(kind: TableKind, fleet: Fleet, data: DayData, rng: np.random.Generator) -> Rows:
    """Numeric rows with vehicle-clock time (with skew) and server receive time."""
    source = data.events if kind is EVENTS else data.readings
    n = len(source["t_us"])
    vehicle = source["vehicle"]
    t_us = source["t_us"]
    jitter = (rng.exponential(m.EVENT_JITTER_S, n) * S).astype(np.int64)
    version = data.version[vehicle]
    columns = {
        "id": random_bytes(rng, n),
        "vehicle": vehicle,
        "key": source["key"],
        "version": version,
        "event_us": t_us + data.skew_us[vehicle],
        "route_us": t_us + data.trip_delay_us[source["trip"]] + jitter,
        "reason": np.full(n, -1, dtype=np.int8),
        "boundary": np.zeros(n, dtype=bool),
        "copy": np.zeros(n, dtype=bool),
        "unknown_firmware": version >= len(fleet.releases),
    }
    if kind is EVENTS:
        key = source["key"]
        key_type = np.where(key >= 0, fleet.key_type[np.maximum(key, 0)], -1)
        columns["key_type"] = key_type.astype(np.int8)
        for name in ("event_type", "radio", "rssi", "distance", "lock", "detail"):
            columns[name] = source[name]
    else:
        columns["voltage"] = source["voltage"]
        columns["temperature"] = source["temperature"]
    return Rows(columns)


class _TableBuilder:
    """Arrow tables in the contract's column order from numeric rows."""

    def __init__(self, fleet: Fleet) -> None:
        self.vins = fleet.vins
        self.key_ids = fleet.key_ids
        self.versions = fleet.versions
        self.event_types = pa.array(EVENT_TYPES)
        self.key_types = pa.array(KEY_TYPES)
        self.radios = pa.array(RADIOS)
        self.lock_sources = pa.array(LOCK_SOURCES)
        self.details = pa.array(DETAILS)

    def events(self, rows: Rows) -> pa.Table:
        rssi = rows["rssi"]
        distance = rows["distance"]
        return pa.Table.from_arrays(
            [
                hex_strings(rows["id"]),
                dictionary(rows["vehicle"], self.vins),
                timestamps(rows["event_us"]),
                timestamps(rows["route_us"]),
                dictionary(rows["event_type"], self.event_types),
                dictionary(rows["key"], self.key_ids),
                dictionary(rows["key_type"], self.key_types),
                dictionary(rows["radio"], self.radios),
                pa.array(rssi, mask=rssi == np.iinfo(np.int16).min),
                pa.array(distance, mask=np.isnan(distance)),
                dictionary(rows["lock"], self.lock_sources),
                dictionary(rows["detail"], self.details),
                dictionary(rows["version"], self.versions),
            ],
            schema=EVENTS_WRITE_SCHEMA,
        )

    def readings(self, rows: Rows) -> pa.Table:
        temperature = rows["temperature"]
        return pa.Table.from_arrays(
            [
                hex_strings(rows["id"]),
                dictionary(rows["vehicle"], self.vins),
                dictionary(rows["key"], self.key_ids),
                timestamps(rows["event_us"]),
                timestamps(rows["route_us"]),
                pa.array(rows["voltage"]),
                pa.array(temperature, mask=np.isnan(temperature)),
                dictionary(rows["version"], self.versions),
            ],
            schema=READINGS_WRITE_SCHEMA,
        )


def _dictionary_schema(schema: pa.Schema, keep_plain: tuple[str, ...]) -> pa.Schema:
    """The contract schema with low-cardinality strings dictionary-encoded (same Parquet)."""
    return pa.schema(
        [
            pa.field(f.name, pa.dictionary(pa.int32(), pa.string()))
            if f.type == pa.string() and f.name not in keep_plain
            else f
            for f in schema
        ]
    )


EVENTS_WRITE_SCHEMA = _dictionary_schema(ACCESS_EVENTS_SCHEMA, ("event_id",))
READINGS_WRITE_SCHEMA = _dictionary_schema(FOB_BATTERY_READINGS_SCHEMA, ("reading_id",))


def _write_registries(config: GeneratorConfig, fleet: Fleet) -> list[str]:
    """Full registry snapshots: weekly, and always on the last simulated day."""
    last = config.start_date + dt.timedelta(days=config.days - 1)
    dates = sorted(
        {config.start_date + dt.timedelta(days=d) for d in range(0, config.days, 7)} | {last}
    )
    vehicles = pa.Table.from_arrays(
        [
            fleet.vins,
            coded_strings(fleet.model, m.MODELS),
            coded_strings(fleet.hw_uwb.astype(np.int8), ("ble", "ble_uwb")),
            coded_strings(fleet.region, m.REGIONS),
            pa.array(fleet.delivered_on, type=pa.date32()),
        ],
        schema=VEHICLES_SCHEMA,
    )
    keys = pa.Table.from_arrays(
        [
            fleet.key_ids,
            fleet.vins.take(pa.array(fleet.key_vehicle)),
            coded_strings(fleet.key_type, KEY_TYPES),
            timestamps(fleet.key_paired_us),
            coded_strings(fleet.key_lot, fleet.lots),
        ],
        schema=KEYS_SCHEMA,
    )
    for date in dates:
        released = [r for r in fleet.releases if r.released_on <= date]
        releases = pa.Table.from_pylist(
            [
                {"version": r.version, "released_on": r.released_on, "channel": r.channel}
                for r in released
            ],
            schema=FIRMWARE_RELEASES_SCHEMA,
        )
        for name, table in (
            ("vehicles", vehicles),
            ("keys", keys),
            ("firmware_releases", releases),
        ):
            path = config.lake / "raw" / name / f"snapshot_date={date.isoformat()}"
            write_parquet(table, path / "part-000.parquet")
    return [d.isoformat() for d in dates]


def _manifest(
    config: GeneratorConfig,
    fleet: Fleet,
    writer: PartitionedWriter,
    tallies: dict[str, _Tally],
    snapshot_dates: list[str],
) -> dict[str, Any]:
    releases = fleet.releases
    regression = releases[fleet.regression_release]
    predecessor = releases[fleet.regression_release - 1] if fleet.regression_release else None
    window_end = regression.released_on + dt.timedelta(days=13)
    fobs = fleet.key_lot >= 0
    fast = fleet.key_lot == fleet.lots.index(fleet.fast_lot)
    region_names = np.array(m.REGIONS)[fleet.region]
    home_share = {
        r: round(float(fleet.home_exclusion[region_names == r].mean()), 4)
        for r in m.REGIONS
        if (region_names == r).any()
    }
    n_vehicles = fleet.n
    return {
        "generator_version": GENERATOR_VERSION,
        "parameters": config.parameters(),
        "date_range": {
            "first_local_day": config.start_date.isoformat(),
            "last_local_day": snapshot_dates[-1],
            "newest_snapshot_date": snapshot_dates[-1],
        },
        "tables": {
            EVENTS.name: tallies[EVENTS.name].as_dict(writer, EVENTS.name),
            READINGS.name: tallies[READINGS.name].as_dict(writer, READINGS.name),
            "vehicles": {"rows": n_vehicles, "snapshots": snapshot_dates},
            "keys": {
                "rows": len(fleet.key_ids),
                "rows_by_key_type": {
                    t: int((fleet.key_type == i).sum()) for i, t in enumerate(KEY_TYPES)
                },
                "snapshots": snapshot_dates,
            },
            "firmware_releases": {"rows": len(releases), "snapshots": snapshot_dates},
        },
        "fleet": {
            "vehicles_by_region": {
                r: int((fleet.region == i).sum()) for i, r in enumerate(m.REGIONS)
            },
            "vehicles_by_access_hw": {
                "ble": int((~fleet.hw_uwb).sum()),
                "ble_uwb": int(fleet.hw_uwb.sum()),
            },
            "vehicles_by_model": {
                name: int((fleet.model == i).sum()) for i, name in enumerate(m.MODELS)
            },
            "fobs": int(fobs.sum()),
            "cell_lots": fleet.lots,
        },
        "firmware": {
            "releases": [
                {
                    "version": r.version,
                    "released_on": r.released_on.isoformat(),
                    "channel": r.channel,
                    "predecessor": releases[i - 1].version if i else None,
                    "regresses": i == fleet.regression_release,
                }
                for i, r in enumerate(releases)
            ],
            "unregistered_builds": fleet.unknown_builds,
        },
        "stories": [
            {
                "id": "firmware_uwb_latency_regression",
                "what": "one production release slows UWB passive entry in one region: part "
                "of the attempts need a second ranging session",
                "version": regression.version,
                "predecessor": predecessor.version if predecessor else None,
                "released_on": regression.released_on.isoformat(),
                "comparison_window": [regression.released_on.isoformat(), window_end.isoformat()],
                "region": m.REGRESSION_REGION,
                "radio": m.REGRESSION_RADIO,
                "affected_attempt_share": m.REGRESSION_SHARE,
                "extra_latency_median_ms": m.REGRESSION_DELAY[0],
                "expected_release_health": "regression (p95 latency), every other release not",
            },
            {
                "id": "fast_draining_cell_lot",
                "what": "fob coin cells of one lot drain several times faster than the others",
                "cell_lot": fleet.fast_lot,
                "drain_factor": m.FAST_LOT_DRAIN_FACTOR,
                "fobs_in_lot": int(fast.sum()),
            },
            {
                "id": "home_exclusion_region",
                "what": "walk-away lock is suppressed for home_exclusion much more often in "
                "one region, where more owners park in their own garage",
                "region": "NA",
                "home_exclusion_vehicle_share": home_share,
            },
        ],
    }
