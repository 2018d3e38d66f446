"""Compare Trino's percentile options with exact percentile_cont on latency-like samples.

Needs a running local Trino (`make trino-up`). Writes one Parquet file to a temporary folder,
exposes it as hive.scratch.latencies, prints the worst relative error of each option per
sample size, then drops the table. Usage: .venv/bin/python scripts/trino/compare_percentiles.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from access_analytics.trino.server import query

FRACTIONS = (0.5, 0.9, 0.95, 0.99)
SIZES = (20, 500, 20_000, 300_000)
OPTIONS = {
    "approx_percentile": "approx_percentile(x, {p})",
    "tdigest": "value_at_quantile(tdigest_agg(cast(x as double)), {p})",
    "qdigest(1e-4)": "value_at_quantile(qdigest_agg(cast(x as bigint), 1, 0.0001), {p})",
    "exact (array_sort)": (
        "element_at(array_sort(array_agg(x)), cast(floor({p} * (count(x) - 1)) as bigint) + 1)"
        " + ({p} * (count(x) - 1) - floor({p} * (count(x) - 1)))"
        " * (element_at(array_sort(array_agg(x)),"
        " cast(ceiling({p} * (count(x) - 1)) as bigint) + 1)"
        " - element_at(array_sort(array_agg(x)), cast(floor({p} * (count(x) - 1)) as bigint) + 1))"
    ),
}


def samples(rng: np.random.Generator) -> dict[str, np.ndarray]:
    def latency(values: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(values), 100, 30_000).astype(np.int32)

    result = {}
    for n in SIZES:
        result[f"lognormal_{n}"] = latency(rng.lognormal(np.log(600), 0.6, n))
        result[f"uniform_{n}"] = latency(rng.uniform(100, 30_000, n))
        bimodal = np.where(rng.random(n) < 0.8, rng.normal(400, 60, n), rng.normal(4000, 900, n))
        result[f"bimodal_{n}"] = latency(bimodal)
        result[f"heavy_tail_{n}"] = latency(100 + rng.pareto(1.5, n) * 300)
        result[f"few_values_{n}"] = latency(
            rng.choice([120, 130, 800, 2500, 29_000], n, p=[0.3, 0.3, 0.2, 0.15, 0.05])
        )
    return result


def main() -> None:
    data = samples(np.random.default_rng(7))
    with tempfile.TemporaryDirectory() as folder:
        table = pa.table(
            {
                "sample": [name for name, values in data.items() for _ in values],
                "x": np.concatenate(list(data.values())),
            }
        )
        pq.write_table(table, Path(folder) / "latencies.parquet")
        query("create schema if not exists hive.scratch")
        query("drop table if exists hive.scratch.latencies")
        query(
            "create table hive.scratch.latencies (sample varchar, x integer) with "
            f"(format = 'PARQUET', external_location = 'local://{Path(folder).resolve()}')"
        )
        try:
            for option, template in OPTIONS.items():
                columns = ", ".join(template.format(p=f"cast({p} as double)") for p in FRACTIONS)
                found = query(f"select sample, {columns} from hive.scratch.latencies group by 1")
                worst: dict[str, float] = {}
                for sample, *values in found:
                    size = sample.rsplit("_", 1)[1]
                    for fraction, value in zip(FRACTIONS, values, strict=True):
                        exact = float(np.quantile(data[sample], fraction, method="linear"))
                        error = abs(float(value) - exact) / exact
                        worst[size] = max(worst.get(size, 0.0), error)
                summary = ", ".join(f"n={size}: {error:.2%}" for size, error in worst.items())
                print(f"{option:20s} worst relative error  {summary}")
        finally:
            query("drop table if exists hive.scratch.latencies")


if __name__ == "__main__":
    main()
