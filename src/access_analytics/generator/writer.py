"""Deterministic Parquet writing into the Hive-partitioned lake layout."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

EPOCH = dt.date(1970, 1, 1)

# Fixed writer options: nothing in the files depends on the wall clock or the machine, so
# the same generation yields byte-identical files. No Arrow schema is stored: readers see
# the plain Parquet types of the contract (dictionary-encoded strings read back as strings).
PARQUET_OPTIONS = {
    "version": "2.6",
    "data_page_version": "1.0",
    "row_group_size": 512 * 1024,
    "store_schema": False,
}
# Random hex ids neither compress nor dictionary-encode, and min/max statistics on them help
# no query: skipping that work makes writing about a fifth faster.
ID_COLUMNS = ("event_id", "reading_id")


def epoch_day(day: dt.date) -> int:
    return (day - EPOCH).days


def write_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # dictionary columns are decoded first: the writer re-encodes plain strings faster than
    # it copes with the fleet-wide dictionaries of the in-memory tables
    columns = [c.cast(pa.string()) if pa.types.is_dictionary(c.type) else c for c in table.columns]
    table = pa.Table.from_arrays(columns, names=table.column_names)
    others = [name for name in table.column_names if name not in ID_COLUMNS]
    pq.write_table(
        table,
        path,
        compression={name: "none" if name in ID_COLUMNS else "zstd" for name in table.column_names},
        compression_level={name: 1 for name in others},
        use_dictionary=others,
        write_statistics=others,
        **PARQUET_OPTIONS,
    )


class PartitionedWriter:
    """Buffers telemetry rows per ingest partition and writes a partition once it is closed.

    A partition is closed when no later generated day can add rows to it; then its rows are
    split into `files_per_partition` files, so every partition holds several files and each
    file is written exactly once. Files are encoded on two threads (Parquet encoding
    releases the GIL) while the next day is simulated; at most one flush is in flight, which
    keeps memory bounded.
    """

    def __init__(self, root: Path, files_per_partition: int) -> None:
        self.root = root
        self.files_per_partition = files_per_partition
        self.pending: dict[tuple[str, int], list[pa.Table]] = defaultdict(list)
        self.files: dict[str, int] = defaultdict(int)
        self.partitions: dict[str, set[str]] = defaultdict(set)
        self._pool = ThreadPoolExecutor(max_workers=2)
        self._in_flight: list[Future[None]] = []

    def add(self, name: str, table: pa.Table, route_day: np.ndarray) -> None:
        """Rows must be grouped by route_day (the UTC day of received_at), ascending."""
        if len(table) == 0:
            return
        days, starts = np.unique(route_day, return_index=True)
        ends = np.append(starts[1:], len(table))
        for day, lo, hi in zip(days, starts, ends, strict=True):
            part = table.slice(int(lo), int(hi - lo))
            if 4 * len(part) < len(table):
                # a few late rows may wait days for their partition: copy them so they do
                # not keep the whole day's table alive
                part = part.take(pa.array(np.arange(len(part))))
            self.pending[(name, int(day))].append(part)

    def flush(self, before_day: int | None = None) -> None:
        self._wait()
        for name, day in sorted(self.pending):
            if before_day is None or day < before_day:
                self._write(name, day, self.pending.pop((name, day)))

    def close(self) -> None:
        try:
            self._wait()
        finally:
            self._pool.shutdown(wait=True)

    def _wait(self) -> None:
        in_flight, self._in_flight = self._in_flight, []
        for future in in_flight:
            future.result()

    def _write(self, name: str, day: int, parts: list[pa.Table]) -> None:
        table = pa.concat_tables(parts)
        date = EPOCH + dt.timedelta(days=day)
        folder = self.root / "raw" / name / f"ingest_date={date.isoformat()}"
        n_files = max(1, min(self.files_per_partition, len(table)))
        bounds = np.linspace(0, len(table), n_files + 1).astype(int)
        for i in range(n_files):
            chunk = table.slice(int(bounds[i]), int(bounds[i + 1] - bounds[i]))
            path = folder / f"part-{i:03d}.parquet"
            self._in_flight.append(self._pool.submit(write_parquet, chunk, path))
        self.files[name] += n_files
        self.partitions[name].add(date.isoformat())
