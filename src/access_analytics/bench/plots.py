"""PNG plots of the benchmark: each step's time and peak memory against the lake's size.

Drawn from the same JSON reports as BENCHMARKS.md, one point per report (scale), on
log-log axes so that linear growth is a straight line of slope one. A step that ran out
of memory at a scale has no point there: its line ends where it last finished.
"""

from __future__ import annotations

from pathlib import Path

from access_analytics.bench.report import STEP_LABELS

PLOTS = {
    "time": ("median wall time (s)", lambda step: step["median_wall_s"]),
    "memory": ("peak memory of the process tree (GB)", lambda step: step["max_peak_rss_mb"] / 1024),
}


def write_plots(reports: list[dict], folder: Path) -> list[Path]:
    """bench-time.png and bench-memory.png in `folder`; the paths written."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (axis_label, value) in PLOTS.items():
        figure, axes = pyplot.subplots(figsize=(8, 5), dpi=100)
        for step, label in STEP_LABELS.items():
            points = [
                (report["scale"]["raw_events"], value(report["steps"][step]))
                for report in reports
                # a step stopped at the memory cap has no time or peak of its own to plot
                if step in report["steps"] and not report["steps"][step].get("out_of_memory")
            ]
            if points:
                sizes, values = zip(*points, strict=True)
                axes.plot(sizes, values, marker="o", label=label.replace("`", ""))
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("raw access events in the lake")
        axes.set_ylabel(axis_label)
        axes.set_title(f"access-analytics bench: {name} against data size")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize="small", loc="upper left")
        figure.tight_layout()
        path = folder / f"bench-{name}.png"
        figure.savefig(path)
        pyplot.close(figure)
        written.append(path)
    return written
