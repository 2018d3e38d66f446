"""Upload-path faults: invalid rows of every quarantine reason, valid edge values, duplicates.

Rows stay numeric (codes into the fleet's vocabularies) while faults are planned, so
reordering and copying a day of events is cheap. Rows that need a broken or edge value
become a small Arrow "patch" table edited in Python. Shadow columns remember what was done
to every row (its partition key, the quarantine reason the contract must give it, whether it
is a duplicate copy), so the manifest reports exact counts without re-validating.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from access_analytics.generator import model as m
from access_analytics.generator.units import S

REASONS = (
    "missing_required",
    "unknown_value",
    "malformed_id",
    "out_of_range",
    "future_event",
    "too_late",
)
MISSING, UNKNOWN, MALFORMED, OUT_OF_RANGE, FUTURE, TOO_LATE = range(len(REASONS))
MULTI_REASON_SHARE = 0.15
BOUNDARY_SHARE_OF_INVALID = 0.25
# the shadow columns every row carries next to its data


@dataclass(frozen=True)
class TableKind:
    """What differs between the two telemetry tables for fault injection."""

    name: str
    id_column: str
    time_column: str
    required: tuple[str, ...]
    reasons: tuple[int, ...]  # reasons that can apply (readings have no enum columns)


EVENTS = TableKind(
    "access_events",
    "event_id",
    "event_at",
    ("event_id", "vin", "event_at", "received_at", "event_type", "firmware_version"),
    (MISSING, UNKNOWN, MALFORMED, OUT_OF_RANGE, FUTURE, TOO_LATE),
)
READINGS = TableKind(
    "fob_battery_readings",
    "reading_id",
    "read_at",
    ("reading_id", "vin", "fob_id", "read_at", "received_at", "voltage_mv", "firmware_version"),
    (MISSING, MALFORMED, OUT_OF_RANGE, FUTURE, TOO_LATE),
)


class Rows:
    """Aligned numpy columns of one table's rows (data and shadow columns)."""

    def __init__(self, columns: dict[str, np.ndarray]) -> None:
        self.columns = columns

    def __len__(self) -> int:
        return len(self.columns["route_us"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def take(self, idx: np.ndarray) -> Rows:
        return Rows({k: v[idx] for k, v in self.columns.items()})


@dataclass
class Patch:
    """Rows whose values cannot be expressed as codes: an Arrow table plus shadow columns."""

    table: pa.Table
    shadow: Rows

    def __len__(self) -> int:
        return len(self.shadow)

    def take(self, idx: np.ndarray) -> Patch:
        return Patch(self.table.take(pa.array(idx, type=pa.int64())), self.shadow.take(idx))


ToTable = Callable[[Rows], pa.Table]


def _one_of(rng: np.random.Generator, options: list[Any]) -> Any:
    return options[int(rng.integers(0, len(options)))]


def _break(row: dict[str, Any], reason: int, kind: TableKind, rng: np.random.Generator) -> None:
    """Make one contract rule fail on a row."""
    if reason == MISSING:
        column = _one_of(rng, list(kind.required))
        row[column] = "" if isinstance(row[column], str) and rng.random() < 0.5 else None
    elif reason == UNKNOWN:
        column = _one_of(rng, ["event_type", "event_type", "key_type", "radio", "lock_source"])
        current = row[column] or ""
        options = {
            # wrong case is as unknown as a typo: enum checks are exact
            "event_type": [current.upper(), current.title(), "door_unlock", "unlocked"],
            "key_type": ["Phone", "FOB", "watch"],
            "radio": ["BLE", "UWB", "wifi", "lte"],
            "lock_source": ["Passive", "Walkaway", "remote", "valet"],
        }[column]
        row[column] = _one_of(rng, [o for o in options if o and o != current])
    elif reason == MALFORMED:
        if rng.random() < 0.5:
            vin = row["vin"]
            row["vin"] = _one_of(
                rng,
                [
                    vin[:16],
                    vin + "7",
                    vin[:8] + "O" + vin[9:],
                    vin.lower(),
                    vin[:3] + "Q" + vin[4:],
                ],
            )
        else:
            ident = row[kind.id_column]
            options = [ident[:31], ident + "a", "g" + ident[1:], ident.upper()]
            options.append(f"{ident[:8]}-{ident[8:12]}-{ident[12:16]}-{ident[16:20]}-{ident[20:]}")
            row[kind.id_column] = _one_of(rng, [o for o in options if o != ident])
    elif reason == OUT_OF_RANGE:
        if kind is EVENTS:
            if rng.random() < 0.5:
                row["rssi_dbm"] = _one_of(rng, [-128, 21, 60, -300])
            else:
                row["distance_m"] = _one_of(rng, [100.5, -0.25, 250.0])
        elif rng.random() < 0.6:
            row["voltage_mv"] = _one_of(rng, [1799, 3401, 0, 5000, -12])
        else:
            row["temperature_c"] = _one_of(rng, [-40.5, 60.5, 85.0, -60.0])
    elif reason == FUTURE:
        # vehicle clock far ahead of the server
        ahead = dt.timedelta(seconds=float(rng.uniform(301.0, 3 * 86400.0)))
        row[kind.time_column] = row["received_at"] + ahead
    elif reason == TOO_LATE:
        # vehicle clock reset to an old date, or a row stuck in a queue for over a month
        behind = dt.timedelta(days=30, seconds=float(rng.uniform(1.0, 150 * 86400.0)))
        row[kind.time_column] = row["received_at"] - behind


def _edge(row: dict[str, Any], what: str, kind: TableKind, rng: np.random.Generator) -> None:
    """Put a value exactly on a contract bound: still valid (bounds are inclusive)."""
    low = rng.random() < 0.5
    if what == "rssi":
        row["rssi_dbm"] = -127 if low else 20
    elif what == "distance":
        row["distance_m"] = 0.0 if low else 100.0
    elif what == "voltage":
        row["voltage_mv"] = 1800 if low else 3400
    elif what == "temperature":
        row["temperature_c"] = -40.0 if low else 60.0
    elif low or kind is EVENTS:
        # An event is never moved 30 days back: it keeps its firmware version, and
        # the metric definitions date a version's first day by its earliest event, so a month-old
        # event would start a release's comparison window before its rollout.
        row[kind.time_column] = row["received_at"] + dt.timedelta(minutes=5)
    else:
        row[kind.time_column] = row["received_at"] - dt.timedelta(days=30)


def _edge_pools(rows: Rows, kind: TableKind) -> dict[str, np.ndarray]:
    if kind is EVENTS:
        from access_analytics.generator.day import BLE, KEY_DETECTED, UWB

        # event times move only on key_detected, which no metric reads
        return {
            "rssi": np.nonzero(rows["radio"] == BLE)[0],
            "distance": np.nonzero(rows["radio"] == UWB)[0],
            "time": np.nonzero(rows["event_type"] == KEY_DETECTED)[0],
        }
    everyone = np.arange(len(rows))
    return {"voltage": everyone, "temperature": everyone, "time": everyone}


def split_faulty(
    rows: Rows, kind: TableKind, rate: float, rng: np.random.Generator, to_table: ToTable
) -> tuple[np.ndarray, Patch]:
    """Move broken rows (every applicable reason, some with two) and edge rows to a patch.

    Returns the indices of the untouched rows and the patch.
    """
    n = len(rows)
    k = int(rng.binomial(n, rate)) if n else 0
    broken = np.unique(rng.integers(0, n, size=k)) if k else np.zeros(0, dtype=np.int64)
    k = len(broken)
    reasons = np.array(kind.reasons)
    first = rng.permutation(np.resize(rng.permutation(reasons), k))
    second = np.where(rng.random(k) < MULTI_REASON_SHARE, rng.choice(reasons, size=k), -1)
    # future_event and too_late both move the event time: never combine them
    both_times = (np.minimum(first, second) == FUTURE) & (np.maximum(first, second) == TOO_LATE)
    second[(second == first) | both_times] = -1

    taken = np.zeros(n, dtype=bool)
    taken[broken] = True
    edges: dict[int, str] = {}
    n_edges = int(rng.binomial(n, rate * BOUNDARY_SHARE_OF_INVALID)) if n else 0
    pools = _edge_pools(rows, kind)
    names = list(pools)
    for which in rng.integers(0, len(names), size=n_edges):
        pool = pools[names[which]]
        if len(pool):
            i = int(pool[rng.integers(0, len(pool))])
            if not taken[i]:
                taken[i] = True
                edges[i] = names[which]
    edge_idx = np.array(sorted(edges), dtype=np.int64)

    idx = np.concatenate([broken, edge_idx])
    patch_rows = rows.take(idx)
    table = to_table(patch_rows)
    records = table.to_pylist()
    for i in range(k):
        # the later rule first, so the earliest (the expected reason) is surely in effect
        for reason in sorted({int(first[i]), int(second[i])} - {-1}, reverse=True):
            _break(records[i], reason, kind, rng)
    for j, i in enumerate(edge_idx):
        _edge(records[k + j], edges[int(i)], kind, rng)
    patch_rows.columns["reason"] = np.concatenate(
        [np.where(second >= 0, np.minimum(first, second), first), np.full(len(edge_idx), -1)]
    ).astype(np.int8)
    patch_rows.columns["boundary"] = np.arange(len(idx)) >= k
    patched = pa.Table.from_pylist(records, schema=plain_schema(table.schema))
    patched = _like(patched, table.schema)
    return np.nonzero(~taken)[0], Patch(patched, patch_rows)


def plain_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [
            pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
            for f in schema
        ]
    )


def _like(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Dictionary-encode the columns that are dictionary-encoded in the day's main table."""
    columns = []
    for field in schema:
        column = table[field.name]
        if pa.types.is_dictionary(field.type):
            column = pc.dictionary_encode(column).cast(field.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def _duplicate_plan(n: int, rate: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Row order with copies next to their original, and each output row's receive delay."""
    extra = rng.random(n) < rate
    idx = np.repeat(np.arange(n), 1 + extra)
    is_copy = np.zeros(len(idx), dtype=bool)
    is_copy[1:] = idx[1:] == idx[:-1]
    n_copies = int(is_copy.sum())
    weights = np.array([w for _, w in m.DUPLICATE_KINDS])
    kind = rng.choice(len(weights), size=n_copies, p=weights / weights.sum())
    # same batch: identical received_at; re-send: minutes later; retry after a lost
    # acknowledgement: one to a few days later, in a later ingest partition
    shift_s = np.select(
        [kind == 1, kind == 2],
        [rng.uniform(1.0, 1800.0, n_copies), rng.uniform(1.05, 3.5, n_copies) * 86400.0],
        default=0.0,
    )
    shift_us = np.zeros(len(idx), dtype=np.int64)
    shift_us[is_copy] = (shift_s * S).astype(np.int64)
    return idx, shift_us


def duplicate_rows(
    rows: Rows, keep: np.ndarray, rate: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which rows to output (indices into rows, copies next to their original), their
    receive times and whether each is a copy; nothing is materialized yet."""
    idx, shift_us = _duplicate_plan(len(keep), rate, rng)
    out = keep[idx]
    return out, rows["route_us"][out] + shift_us, np.append(False, idx[1:] == idx[:-1])


def duplicate_patch(patch: Patch, rate: float, rng: np.random.Generator) -> Patch:
    """Copies of broken and edge rows come in the same batch: a later receive time would
    change whether future_event / too_late applies to the copy."""
    idx, _ = _duplicate_plan(len(patch), rate, rng)
    out = patch.take(idx)
    out.shadow.columns["copy"] = out.shadow["copy"] | np.append(False, idx[1:] == idx[:-1])
    return out
