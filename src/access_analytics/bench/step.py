"""One measured step of the benchmark, run in its own process so its memory is its own.

    python -m access_analytics.bench.step generate <lake> <vehicles> <days> <seed>
    python -m access_analytics.bench.step pandas|floor <lake> <out_dir>

Prints one JSON line: the step's own compute time (`seconds`, without interpreter start
and imports) and what it produced. A baseline writes its three marts to
`<out_dir>/<mart>.parquet` for the caller to compare with the warehouse; the floor runs
under the build's DuckDB memory limit and spills to `<out_dir>/spill`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> dict[str, object]:
    step, lake = argv[0], Path(argv[1])
    if step == "generate":
        from access_analytics.generator import generate_lake

        vehicles, days, seed = (int(value) for value in argv[2:5])
        started = time.perf_counter()
        manifest = generate_lake(lake, vehicles=vehicles, days=days, seed=seed, overwrite=True)
        seconds = time.perf_counter() - started
        tables = manifest["tables"]
        return {
            "seconds": seconds,
            "access_events": tables["access_events"]["rows"],
            "fob_battery_readings": tables["fob_battery_readings"]["rows"],
        }
    if step in ("pandas", "floor"):
        from access_analytics.bench import baselines

        out = Path(argv[2])
        out.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        if step == "pandas":
            marts = baselines.pandas_marts(lake)
        else:
            marts = baselines.floor_marts(lake, spill_dir=out / "spill")
        seconds = time.perf_counter() - started
        for mart, frame in marts.items():
            frame.to_parquet(out / f"{mart}.parquet", index=False)
        return {"seconds": seconds, "rows": {mart: len(frame) for mart, frame in marts.items()}}
    raise SystemExit(f"unknown step {step!r}")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
