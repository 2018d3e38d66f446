"""Arrow schemas of the raw contract (derived from it) and fast column builders."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from access_analytics.contract import raw_table

TS = pa.timestamp("us")

# The Parquet schemas of the lake's files, derived from the raw contract.
ACCESS_EVENTS_SCHEMA = raw_table("access_events").arrow_schema
FOB_BATTERY_READINGS_SCHEMA = raw_table("fob_battery_readings").arrow_schema
VEHICLES_SCHEMA = raw_table("vehicles").arrow_schema
KEYS_SCHEMA = raw_table("keys").arrow_schema
FIRMWARE_RELEASES_SCHEMA = raw_table("firmware_releases").arrow_schema

_HEX = b"0123456789abcdef"
# two hex chars per byte value, as one little-endian uint16 per byte
_HEX_PAIRS = np.array([_HEX[b >> 4] | (_HEX[b & 15] << 8) for b in range(256)], dtype="<u2")


def random_bytes(rng: np.random.Generator, n: int, n_bytes: int = 16) -> np.ndarray:
    """n random byte strings as a 1-D array of opaque n_bytes-sized items (cheap to reorder)."""
    return np.frombuffer(rng.bytes(n * n_bytes), dtype=np.dtype((np.void, n_bytes)))


def hex_strings(raw: np.ndarray) -> pa.StringArray:
    """Lowercase hex of each item of a random_bytes array, built without a Python loop."""
    n, k = len(raw), raw.dtype.itemsize
    chars = np.ascontiguousarray(_HEX_PAIRS[np.ascontiguousarray(raw).view(np.uint8)])
    offsets = np.arange(0, 2 * k * n + 1, 2 * k, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))


def random_hex_ids(rng: np.random.Generator, n: int, n_bytes: int = 16) -> pa.StringArray:
    """n random ids of 2*n_bytes lowercase hex chars."""
    return hex_strings(random_bytes(rng, n, n_bytes))


def dictionary(codes: np.ndarray, vocabulary: pa.Array) -> pa.DictionaryArray:
    """Dictionary-encoded strings from integer codes; a negative code is null.

    Parquet stores strings dictionary-encoded anyway; handing the writer the dictionary
    saves materializing a million strings per day.
    """
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, vocabulary)


def coded_strings(codes: np.ndarray, vocabulary: Sequence[str] | pa.Array) -> pa.Array:
    """Strings from integer codes into a vocabulary; a negative code is null."""
    dictionary = vocabulary if isinstance(vocabulary, pa.Array) else pa.array(vocabulary)
    indices = pa.array(codes, mask=codes < 0)
    return dictionary.take(indices)


def timestamps(micros: np.ndarray) -> pa.Array:
    return pa.array(micros.astype(np.int64).view("datetime64[us]"), type=TS)
