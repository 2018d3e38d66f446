"""`access-analytics bench`: time the generator, the dbt build and the baselines on one lake.

Every measured step runs as a child process (the generator and the baselines through
`access_analytics.bench.step`, dbt as itself), while a thread samples the resident memory
of every descendant process; a step's peak is the largest sum seen. Each step is repeated
`runs` times and reported as the median (times) and the largest (peaks) of its runs. The
baselines' marts are compared with the warehouse the build wrote, and a baseline whose
numbers differ is reported as such: its time is then no baseline.

The incremental step holds the newest ingest day back (every partition of that day, with
its late and duplicate rows), builds the rest once unmeasured, and then times the build
that adds the day to a copy of that warehouse, as the daily pipeline does.

The chart step publishes the tested build and times every dashboard chart's data query
on a private Superset (bench/charts.py). The pandas baseline may stop where memory ends:
past a share of the machine's memory its process is killed and the report says so,
which is its limit at that scale.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from access_analytics.bench import STEPS
from access_analytics.build import duckdb_files
from access_analytics.dbt_runner import duckdb_memory_limit, project_commit, run_dbt

# Raw access_events rows (duplicates, late and invalid rows included) per vehicle and
# simulated day of the default generator: 137,355 / (60 x 45) on the test fleet, 12.1 M /
# (8,000 x 30) on a larger fleet. The lake is sized from it; the report gives the real count.
EVENTS_PER_VEHICLE_DAY = 50.6
DEFAULT_DAYS = 30
MIN_DAYS = 7  # enough for complete days: two warm-up days, the newest two, some between
SAMPLE_INTERVAL_S = 0.05
# The pandas baseline is stopped past this share of the machine's memory, leaving the rest
# to the system (no swap here): "out of memory" is then its result at that scale.
PANDAS_MEMORY_SHARE = 0.75

MODELS_ONLY = ["build", "--exclude", "resource_type:test", "resource_type:unit_test"]
WITH_TESTS = ["build"]


def fleet_for(events: int, days: int = DEFAULT_DAYS) -> tuple[int, int]:
    """Vehicles and days for a lake of about `events` raw access events."""
    vehicle_days = max(events / EVENTS_PER_VEHICLE_DAY, 1.0)
    days = max(MIN_DAYS, min(days, round(vehicle_days)))
    return max(1, round(vehicle_days / days)), days


class TreePeakRss:
    """Largest summed RSS of this process's descendants started while the block runs
    (bytes); those already running before it (a server of the caller's) are not the
    step's and are neither counted nor touched.

    With `cap` (bytes), the step's processes whose sum passes it are killed and `capped`
    is set: a step that would exhaust the machine's memory stops there, instead of the
    kernel's out-of-memory killer choosing what to end."""

    def __init__(self, interval: float = SAMPLE_INTERVAL_S, cap: int | None = None) -> None:
        self.interval = interval
        self.cap = cap
        self.capped = False
        self.peak = 0
        self.samples: list[tuple[float, int]] = []  # (epoch seconds, summed RSS bytes)
        self._before: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while True:
            total = 0
            children = [c for c in me.children(recursive=True) if c.pid not in self._before]
            for child in children:
                with contextlib.suppress(psutil.Error):  # ended between listing and reading
                    total += child.memory_info().rss
            self.peak = max(self.peak, total)
            self.samples.append((time.time(), total))
            if self.cap is not None and total > self.cap and not self.capped:
                self.capped = True
                for child in children:
                    with contextlib.suppress(psutil.Error):
                        child.kill()
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> TreePeakRss:
        self._before = {child.pid for child in psutil.Process().children(recursive=True)}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class StepRun:
    wall_s: float
    peak_rss_mb: float
    seconds: float | None = None  # the step's own compute time, when it reports one
    detail: dict[str, object] = field(default_factory=dict)


@dataclass
class StepResult:
    name: str
    runs: list[StepRun]

    @property
    def median_wall_s(self) -> float:
        return statistics.median(run.wall_s for run in self.runs)

    @property
    def median_seconds(self) -> float | None:
        inner = [run.seconds for run in self.runs if run.seconds is not None]
        return statistics.median(inner) if inner else None

    @property
    def max_peak_rss_mb(self) -> float:
        return max(run.peak_rss_mb for run in self.runs)

    @property
    def out_of_memory(self) -> bool:
        return any(run.detail.get("out_of_memory") for run in self.runs)

    def as_json(self) -> dict[str, object]:
        return {
            "out_of_memory": self.out_of_memory,
            "median_wall_s": round(self.median_wall_s, 3),
            "median_seconds": None
            if self.median_seconds is None
            else round(self.median_seconds, 3),
            "max_peak_rss_mb": round(self.max_peak_rss_mb, 1),
            "runs": [asdict(run) for run in self.runs],
        }


def measure(
    action: Callable[[], dict[str, object] | None],
    memory_cap_mb: float | None = None,
    run_results: Path | None = None,
) -> StepRun:
    """Run `action` (which starts child processes) with the tree's peak RSS sampled; past
    `memory_cap_mb` the processes are killed and the run says it ran out of memory.

    With `run_results` (the dbt run_results.json the action writes), the run also records
    its slowest models and the models that ran while memory was highest."""
    cap = None if memory_cap_mb is None else int(memory_cap_mb * 2**20)
    with TreePeakRss(cap=cap) as sampler:
        started = time.perf_counter()
        try:
            detail = action() or {}
        except RuntimeError:
            if not sampler.capped:
                raise
            detail = {"out_of_memory": True}
        wall = time.perf_counter() - started
    if run_results is not None:
        detail["slowest_models"] = slowest_models(run_results)
        detail["peak_memory_models"] = peak_memory_models(run_results, sampler.samples)
    seconds = detail.pop("seconds", None)
    return StepRun(wall, sampler.peak / 2**20, seconds, detail)


def _model_results(run_results: Path) -> list[dict[str, Any]]:
    results = json.loads(run_results.read_text())["results"]
    return [result for result in results if result["unique_id"].startswith("model.")]


def slowest_models(run_results: Path, count: int = 8) -> list[list[object]]:
    """[model, seconds] of the run's slowest models, from dbt's run_results.json: where a
    build's time goes, recorded with every measured run."""
    timed = sorted(
        (result["execution_time"], result["unique_id"].split(".")[-1])
        for result in _model_results(run_results)
    )
    return [[name, round(seconds, 2)] for seconds, name in reversed(timed[-count:])]


def peak_memory_models(
    run_results: Path, samples: Sequence[tuple[float, int]], count: int = 5
) -> list[list[object]]:
    """[model, MB] of the models with the highest memory sampled while they executed
    (dbt's own start and end of each model). dbt runs two models at once, so a sample
    counts for every model running then: where the peak was, not whose it was."""
    peaks = []
    for result in _model_results(run_results):
        execute = [t for t in result["timing"] if t["name"] == "execute"]
        if not execute or not execute[0].get("started_at"):
            continue
        start, end = (
            datetime.fromisoformat(execute[0][key].replace("Z", "+00:00")).timestamp()
            for key in ("started_at", "completed_at")
        )
        during = [rss for at, rss in samples if start <= at <= end]
        if during:
            peaks.append((max(during), result["unique_id"].split(".")[-1]))
    peaks.sort(key=lambda peak: (-peak[0], peak[1]))  # highest first, ties by name
    return [[name, round(rss / 2**20)] for rss, name in peaks[:count]]


def _step(args: Sequence[str]) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-m", "access_analytics.bench.step", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"bench step {args[0]} failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _fresh(path: Path) -> None:
    for stale in duckdb_files(path):
        stale.unlink(missing_ok=True)


def _versions() -> dict[str, str]:
    names = ["duckdb", "dbt-core", "dbt-duckdb", "pandas", "numpy", "pyarrow"]
    versions = {name: metadata.version(name) for name in names}
    versions["python"] = platform.python_version()
    versions["project_commit"] = project_commit()
    return versions


def _machine() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "logical_cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
    }


@dataclass
class HeldBack:
    """The partitions of one ingest day, moved aside until restore() puts them back."""

    day: str
    moved: list[tuple[Path, Path]]

    def restore(self) -> None:
        for original, aside in self.moved:
            aside.rename(original)


def hold_back_newest_day(lake: Path, aside: Path) -> HeldBack:
    """Move every partition of the lake's newest ingest day (both telemetry tables, and
    registry snapshots of that day) to `aside`."""
    raw = lake / "raw"
    day = max(folder.name for folder in (raw / "access_events").glob("ingest_date=*"))
    day = day.split("=", 1)[1]
    moved = []
    for folder in sorted(raw.glob("*/*=" + day)):
        target = aside / folder.parent.name / folder.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        folder.rename(target)
        moved.append((folder, target))
    return HeldBack(day, moved)


def run_bench(
    events: int,
    workdir: Path,
    *,
    runs: int = 3,
    days: int = DEFAULT_DAYS,
    seed: int = 42,
    steps: Sequence[str] = STEPS,
    say: Callable[[str], None] = print,
) -> dict[str, object]:
    """Measure every step on a lake of about `events` raw access events; return the report."""
    from access_analytics.bench import baselines

    vehicles, days = fleet_for(events, days)
    workdir = Path(workdir).resolve()
    lake = workdir / "lake"
    warehouse = workdir / "warehouse.duckdb"
    target = workdir / "target"
    workdir.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "versions": _versions(),
        "scale": {"requested_events": events, "vehicles": vehicles, "days": days, "seed": seed},
        "duckdb_memory_limit": duckdb_memory_limit(),  # the build's, and the floor's
        "runs": runs,
        "steps": {},
    }
    results: dict[str, StepResult] = {}

    def repeat(
        name: str,
        action: Callable[[], dict[str, object] | None],
        before_each: Callable[[], None] | None = None,
        memory_cap_mb: float | None = None,
        run_results: Path | None = None,
    ) -> None:
        if name not in steps:
            return
        measured = []
        for index in range(runs):
            if before_each is not None:
                before_each()  # not measured
            measured.append(measure(action, memory_cap_mb, run_results))
            stopped = measured[-1].detail.get("out_of_memory")
            say(
                f"{name} run {index + 1}/{runs}: {measured[-1].wall_s:.2f} s, "
                f"peak {measured[-1].peak_rss_mb:.0f} MB"
                + (f" (stopped at the {memory_cap_mb:,.0f} MB memory cap)" if stopped else "")
            )
            if stopped:
                break  # it would not fit in another run either
        results[name] = StepResult(name, measured)

    generate_args = ["generate", str(lake), str(vehicles), str(days), str(seed)]
    say(f"bench: {vehicles} vehicles x {days} days (~{events:,} raw access events) in {workdir}")
    if "generate" in steps:
        repeat("generate", lambda: _step(generate_args))
    elif not lake.is_dir():
        _step(generate_args)
    manifest = json.loads((lake / "manifest.json").read_text())
    tables = manifest["tables"]
    raw_events = tables["access_events"]["rows"]
    report["scale"].update(
        raw_events=raw_events,
        raw_readings=tables["fob_battery_readings"]["rows"],
        parquet_mb=round(sum(p.stat().st_size for p in lake.rglob("*.parquet")) / 2**20, 1),
    )

    def dbt_build(args: list[str]) -> Callable[[], None]:
        def action() -> None:
            _fresh(warehouse)
            run_dbt(args, lake=lake, warehouse=warehouse, target_path=target)

        return action

    run_results = target / "run_results.json"
    repeat("build_models", dbt_build(MODELS_ONLY), run_results=run_results)
    repeat("build_with_tests", dbt_build(WITH_TESTS), run_results=run_results)

    if "charts" in steps:
        from access_analytics.bench.charts import ROUNDS, chart_timings

        if "build_with_tests" not in steps:  # only a tested build is published
            _fresh(warehouse)
            run_dbt(WITH_TESTS, lake=lake, warehouse=warehouse, target_path=target)
        say("charts: publishing the build to a private Superset")
        charts = chart_timings(warehouse, target / "manifest.json", workdir / "charts", ROUNDS)
        say(
            f"charts: {charts['charts']} charts x {ROUNDS} calls,"
            f" p50 {charts['p50_ms']:.0f} ms, p95 {charts['p95_ms']:.0f} ms"
        )
        report["charts"] = charts

    if "build_incremental" in steps:
        day_before = workdir / "warehouse_day_before.duckdb"
        incremental = workdir / "warehouse_incremental.duckdb"
        newest = hold_back_newest_day(lake, workdir / "held_back")
        try:
            _fresh(day_before)
            run_dbt(MODELS_ONLY, lake=lake, warehouse=day_before, target_path=target)
        finally:
            newest.restore()
        report["scale"]["incremental_day"] = newest.day

        def add_one_day() -> None:
            run_dbt(MODELS_ONLY, lake=lake, warehouse=incremental, target_path=target)

        def fresh_copy() -> None:
            _fresh(incremental)
            shutil.copyfile(day_before, incremental)

        repeat("build_incremental", add_one_day, before_each=fresh_copy, run_results=run_results)

    equality: dict[str, object] = {}
    pandas_cap_mb = psutil.virtual_memory().total / 2**20 * PANDAS_MEMORY_SHARE
    for name in ("pandas", "floor"):
        out = workdir / f"baseline_{name}"
        shutil.rmtree(out, ignore_errors=True)
        repeat(
            name,
            lambda name=name, out=out: _step([name, str(lake), str(out)]),
            memory_cap_mb=pandas_cap_mb if name == "pandas" else None,
        )
        built = "build_models" in results or "build_with_tests" in results
        if name in results and built and not results[name].out_of_memory:
            import pandas as pd

            theirs = {m: pd.read_parquet(out / f"{m}.parquet") for m in baselines.FLEET_MARTS}
            comparisons = baselines.compare_marts(baselines.warehouse_marts(warehouse), theirs)
            equality[name] = {
                "equal": baselines.comparisons_equal(comparisons),
                "marts": [comparison.summary() for comparison in comparisons],
            }
            for comparison in comparisons:
                say(f"{name}: {comparison.summary()}")

    for name, result in results.items():
        entry = result.as_json()
        if name == "generate":
            entry["events_per_s"] = round(raw_events / (result.median_seconds or 1), 0)
        if name in equality:
            entry["equal_to_marts"] = equality[name]
        report["steps"][name] = entry
    report["ratios"] = _ratios(results, equality)
    return report


def _ratios(results: dict[str, StepResult], equality: dict[str, object]) -> dict[str, float]:
    """Build time against each baseline's (wall times; only baselines equal to our marts),
    and the one-day incremental build's against the full build's."""
    ratios = {}
    build = results.get("build_models")
    if build and "build_incremental" in results:
        ratios["build_incremental_over_build_models"] = round(
            results["build_incremental"].median_wall_s / build.median_wall_s, 3
        )
    for name in ("pandas", "floor"):
        if build and name in results and equality.get(name, {}).get("equal"):
            ratios[f"build_models_over_{name}"] = round(
                build.median_wall_s / results[name].median_wall_s, 2
            )
    return ratios


def write_report(report: dict[str, object], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path
