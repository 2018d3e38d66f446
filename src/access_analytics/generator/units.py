"""Time units of the generator, in microseconds (Parquet TIMESTAMP(MICROS))."""

MS = 1_000
S = 1_000_000
HOUR_US = 3_600 * S
DAY_US = 86_400 * S
