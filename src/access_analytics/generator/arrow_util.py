"""Arrow schemas of the raw contract and fast column builders."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

TS = pa.timestamp("us")

ACCESS_EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("vin", pa.string()),
        ("event_at", TS),
        ("received_at", TS),
        ("event_type", pa.string()),
        ("key_id", pa.string()),
        ("key_type", pa.string()),
        ("radio", pa.string()),
        ("rssi_dbm", pa.int16()),
        ("distance_m", pa.float32()),
        ("lock_source", pa.string()),
        ("detail", pa.string()),
        ("firmware_version", pa.string()),
    ]
)

FOB_BATTERY_READINGS_SCHEMA = pa.schema(
    [
        ("reading_id", pa.string()),
        ("vin", pa.string()),
        ("fob_id", pa.string()),
        ("read_at", TS),
        ("received_at", TS),
        ("voltage_mv", pa.int16()),
        ("temperature_c", pa.float32()),
        ("firmware_version", pa.string()),
    ]
)

VEHICLES_SCHEMA = pa.schema(
    [
        ("vin", pa.string()),
        ("model", pa.string()),
        ("access_hw", pa.string()),
        ("region", pa.string()),
        ("delivered_on", pa.date32()),
    ]
)

KEYS_SCHEMA = pa.schema(
    [
        ("key_id", pa.string()),
        ("vin", pa.string()),
        ("key_type", pa.string()),
        ("paired_at", TS),
        ("cell_lot", pa.string()),
    ]
)

FIRMWARE_RELEASES_SCHEMA = pa.schema(
    [
        ("version", pa.string()),
        ("released_on", pa.date32()),
        ("channel", pa.string()),
    ]
)

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
