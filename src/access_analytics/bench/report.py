"""BENCHMARKS.md from the JSON reports of `access-analytics bench`: one table per scale.

Every figure comes from a report file; nothing is typed in by hand. Ratios are taken
within one report (one run of the benchmark), so they hold on a busy machine where the
absolute times do not. Each target is shown with whether that run met it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

STEP_LABELS = {
    "generate": "generator (the lake's Parquet files)",
    "build_models": "`dbt build`, models only",
    "build_with_tests": "`dbt build` with data and unit tests",
    "build_incremental": "`dbt build`, models only, adding one ingest day",
    "pandas": "baseline: pandas notebook (3 fleet marts)",
    "floor": "baseline: one DuckDB statement (3 fleet marts)",
}
# The charts are measured apart from the steps, and carried over as "charts".
CHARTS_LABEL = "chart data queries"


def load_reports(paths: Iterable[Path]) -> list[dict]:
    """The reports, smallest lake first."""
    reports = [json.loads(Path(path).read_text()) for path in paths]
    return sorted(reports, key=lambda report: report["scale"]["raw_events"])


def carry_over(newer: dict, older: dict) -> dict:
    """`newer` with the steps and chart timings only `older` measured (same lake, an
    earlier commit), noted in `carried_over` so the Markdown says which figures come
    from which run. For a rerun of the steps a change touched, at a scale where
    rerunning every step would take an hour."""
    if newer["scale"]["raw_events"] != older["scale"]["raw_events"]:
        raise ValueError("reports of different lakes")
    merged = copy.deepcopy(newer)
    taken = [name for name in older["steps"] if name not in newer["steps"]]
    for name in taken:
        merged["steps"][name] = older["steps"][name]
    if "charts" in older and "charts" not in newer:
        merged["charts"] = older["charts"]
        taken.append("charts")
    if taken:
        merged["carried_over"] = {
            "steps": taken,
            "started_at": older["started_at"],
            "project_commit": older["versions"]["project_commit"],
        }
    return merged


def _carried_over(report: dict) -> list[str]:
    carried = report.get("carried_over")
    if not carried:
        return []
    labels = [STEP_LABELS.get(name, CHARTS_LABEL) for name in carried["steps"]]
    return [
        "",
        f"Carried over from the run of {carried['started_at']} (commit"
        f" {carried['project_commit'][:12]}), not repeated in this one: {', '.join(labels)}.",
    ]


def _targets(report: dict) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for what this report can tell; met is None where the
    target does not apply."""
    steps, ratios = report["steps"], report.get("ratios", {})
    rows = []
    if "generate" in steps:
        rate = steps["generate"]["events_per_s"]
        rows.append(("generator at least 1 M events/s", f"{rate / 1e6:.2f} M/s", rate >= 1e6))
    if "build_models_over_floor" in ratios:
        ratio = ratios["build_models_over_floor"]
        rows.append(("build within 3x the floor", f"{ratio:.1f}x", ratio <= 3))
    if "build_models_over_pandas" in ratios:
        speedup = 1 / ratios["build_models_over_pandas"]
        rows.append(("build at least 10x faster than pandas", f"{speedup:.2f}x", speedup >= 10))
    elif steps.get("pandas", {}).get("out_of_memory") and "build_models" in steps:
        # the target holds "wherever it finishes": pandas did not, the build did
        rows.append(("build at least 10x faster than pandas", "pandas out of memory", None))
    if "build_incremental_over_build_models" in ratios:
        share = ratios["build_incremental_over_build_models"]
        rows.append(("one-day run at most 10% of the build", f"{share:.0%}", share <= 0.10))
    if "build_models" in steps:
        peak = steps["build_models"]["max_peak_rss_mb"] / 1024
        rows.append(("build's peak memory under 8 GB", f"{peak:.1f} GB", peak < 8))
    if "charts" in report:
        p95 = report["charts"]["p95_ms"]
        rows.append(("chart queries' p95 under 300 ms", f"{p95:.0f} ms", p95 < 300))
    return rows


def _met(met: bool | None) -> str:
    return "does not apply" if met is None else "yes" if met else "**no**"


def _equality(step: dict) -> str:
    if step.get("out_of_memory"):
        return "**out of memory**: stopped at the cap, no result"
    equal = step.get("equal_to_marts")
    if equal is None:
        return ""
    return "equal to the marts" if equal["equal"] else "**differs from the marts: void**"


def _chart_timings(report: dict) -> list[str]:
    """The dashboards' data queries on this scale's published warehouse."""
    charts = report.get("charts")
    if charts is None:
        return []
    slowest = ", ".join(f"{name} {ms:.0f} ms" for name, ms in charts["slowest"][:3])
    return [
        "",
        f"Chart data queries: {charts['charts']} charts of every dashboard, {charts['rounds']}"
        f" calls each with Superset's cache bypassed, on the published warehouse"
        f" ({charts['serving_mb']:,} MB): **p50 {charts['p50_ms']:.0f} ms, p95"
        f" {charts['p95_ms']:.0f} ms**. Slowest (median): {slowest}.",
    ]


def _slowest_models(report: dict) -> list[str]:
    """Where the time of the full and the one-day build goes (their last measured run)."""
    columns = [
        (name, report["steps"][name]["runs"][-1]["detail"].get("slowest_models", []))
        for name in ("build_models", "build_incremental")
        if name in report["steps"]
    ]
    columns = [(name, models) for name, models in columns if models]
    if not columns:
        return []
    header = " | ".join(STEP_LABELS[name] for name, _ in columns)
    lines = ["", "Slowest models (dbt's own timings, last run):", ""]
    lines += [f"| {header} |", "|" + "---|" * len(columns)]
    for rank in range(max(len(models) for _, models in columns)):
        cells = [
            f"`{models[rank][0]}` {models[rank][1]:.1f} s" if rank < len(models) else ""
            for _, models in columns
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _peak_memory_models(report: dict) -> list[str]:
    """Which models ran when the full build's memory was highest (its last measured run)."""
    step = report["steps"].get("build_models")
    models = step["runs"][-1]["detail"].get("peak_memory_models") if step else None
    if not models:
        return []
    listed = ", ".join(f"`{name}` {mb:,} MB" for name, mb in models)
    return [
        "",
        "Highest memory of the process tree while a model ran (models only, last run; dbt"
        f" runs two models at once, so a peak counts for both): {listed}.",
    ]


def scale_section(report: dict) -> str:
    scale, versions, machine = report["scale"], report["versions"], report["machine"]
    title = f"## {scale['raw_events']:,} raw access events"
    limit = report.get("duckdb_memory_limit")  # older reports do not say
    limit = f", DuckDB memory limit {limit}" if limit else ""
    lines = [
        title,
        "",
        f"{scale['vehicles']:,} vehicles x {scale['days']} days (seed {scale['seed']}):"
        f" {scale['raw_events']:,} raw access events and {scale['raw_readings']:,} battery"
        f" readings in {scale['parquet_mb']:,} MB of Parquet. Run {report['started_at']},"
        f" {report['runs']} run(s) per step, on {machine['logical_cpus']} CPUs and"
        f" {machine['memory_gb']} GB ({machine['platform']}; load average"
        f" {', '.join(map(str, machine['load_average_at_start']))} at the start), project"
        f" commit {versions['project_commit'][:12]}{limit}. Command: `make bench"
        f" BENCH_EVENTS={scale['requested_events']} BENCH_RUNS={report['runs']}`.",
        "",
        "| step | median wall time | peak memory (process tree) | check |",
        "|---|---:|---:|---|",
    ]
    for name, label in STEP_LABELS.items():
        step = report["steps"].get(name)
        if step is None:
            continue
        lines.append(
            f"| {label} | {step['median_wall_s']:.2f} s | {step['max_peak_rss_mb']:,.0f} MB"
            f" | {_equality(step)} |"
        )
    skipped = [label for name, label in STEP_LABELS.items() if name not in report["steps"]]
    if "charts" not in report:
        skipped.append(CHARTS_LABEL)
    if skipped:
        lines += ["", f"Not run at this scale (`--step` chose the others): {', '.join(skipped)}."]
    lines += _carried_over(report)
    lines += _chart_timings(report)
    lines += _slowest_models(report)
    lines += _peak_memory_models(report)
    targets = _targets(report)
    if targets:
        lines += ["", "| target | this run | met |", "|---|---:|---|"]
        lines += [f"| {target} | {measured} | {_met(met)} |" for target, measured, met in targets]
    return "\n".join(lines)


def markdown(reports: list[dict], plots: Iterable[str] = (), demo: dict | None = None) -> str:
    """The Markdown text; `plots` are image paths relative to where it is written, `demo`
    the timing of `make demo` from a fresh clone when there is one."""
    if not reports:
        raise ValueError("no benchmark reports")
    versions = reports[-1]["versions"]
    pinned = ", ".join(
        f"{name} {version}"
        for name, version in sorted(versions.items())
        if name != "project_commit"
    )
    parts = [
        "# Benchmarks",
        "",
        "Generated by `access-analytics bench` from its JSON reports; do not edit by hand.",
        "Each step runs in its own process; times are medians of the runs, memory the",
        "largest sum of resident memory over the step's processes. Ratios are taken within",
        "one run, so they hold even when the machine was busy. The two baselines compute the",
        "three fleet daily marts (unlock, walk-away, fob battery) straight from the Parquet",
        "files and are compared with the marts the build wrote: a baseline whose numbers",
        "differ is void. The floor's DuckDB gets the build's memory limit",
        "(`ACCESS_DUCKDB_MEMORY_LIMIT`, default 6GB), so both spill past the same size.",
        "",
        f"Versions: {pinned}.",
    ]
    for plot in plots:
        parts += ["", f"![{Path(plot).stem.replace('-', ' ')}]({plot})"]
    if demo is not None:
        parts += ["", demo_section(demo)]
    parts += growth_section(reports)
    for report in reports:
        parts += ["", scale_section(report)]
    return "\n".join(parts) + "\n"


# The build's time may grow at most this much faster than the data (1.2: 100 M events
# within 12x the time of 10 M).
MAX_GROWTH_OVER_DATA = 1.2


def growth_section(reports: list[dict]) -> list[str]:
    """How the models-only build's time grows from one measured size to the next."""
    built = [report for report in reports if "build_models" in report["steps"]]
    rows = []
    for smaller, larger in pairwise(built):
        data = larger["scale"]["raw_events"] / smaller["scale"]["raw_events"]
        time = (
            larger["steps"]["build_models"]["median_wall_s"]
            / smaller["steps"]["build_models"]["median_wall_s"]
        )
        met = "yes" if time <= MAX_GROWTH_OVER_DATA * data else "**no**"
        rows.append(
            f"| {smaller['scale']['raw_events']:,} to {larger['scale']['raw_events']:,}"
            f" | {data:.1f}x | {time:.1f}x | at most {MAX_GROWTH_OVER_DATA * data:.1f}x | {met} |"
        )
    if not rows:
        return []
    return [
        "",
        "## Growth with data size",
        "",
        "`dbt build`, models only, from one size to the next (times from different runs).",
        "",
        "| raw access events | data | build time | target | met |",
        "|---|---:|---:|---:|---|",
        *rows,
    ]


def demo_section(demo: dict) -> str:
    """`make demo` from a fresh clone, timed once (`bench --demo-clone`)."""
    minutes, seconds = divmod(round(demo["wall_s"]), 60)
    return "\n".join(
        [
            "## `make demo` from a fresh clone",
            "",
            f"**{minutes} min {seconds:02d} s**, from `{demo['command']}` in a new clone of"
            f" commit {demo['project_commit'][:12]} to the dashboards served: its own `.venv`"
            " from the lock (from uv's package cache on this machine; a first install also"
            " downloads the packages), the demo fleet generated, built, tested and published,"
            " Superset started with"
            f" the dashboards imported. Run {demo['started_at']} (load average"
            f" {', '.join(map(str, demo['load_average_at_start']))} at the start), once."
            " Command: `make bench-demo`.",
        ]
    )


def write_markdown(report_dir: Path, path: Path) -> Path:
    """`path` from every report in `report_dir` (bench-<events>.json, and demo.json when
    `make demo` was timed), with the plots of time and memory against size in
    docs/benchmarks/ beside it."""
    from access_analytics.bench.plots import write_plots

    reports = load_reports(sorted(Path(report_dir).glob("bench-*.json")))
    if not reports:
        raise ValueError(f"no benchmark reports (bench-*.json) in {report_dir}")
    plots = write_plots(reports, path.parent / "docs" / "benchmarks")
    demo_file = Path(report_dir) / "demo.json"
    demo = json.loads(demo_file.read_text()) if demo_file.exists() else None
    relative = [plot.relative_to(path.parent).as_posix() for plot in plots]
    path.write_text(markdown(reports, relative, demo))
    return path
