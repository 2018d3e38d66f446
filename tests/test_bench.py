"""The benchmark's baselines give our marts' numbers, or their timings are void.

On the session's built warehouse (tests/conftest.py: 60 vehicles x 45 days, every fault
and quarantine reason present), the pandas notebook and the one-statement DuckDB floor
must equal the three fleet daily marts: the same days, counts and flags exactly, floats
within baselines.FLOAT_RTOL / FLOAT_ATOL. The check itself must see a difference.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import numpy as np
import pytest

from access_analytics.bench import baselines
from access_analytics.dbt_runner import DEFAULT_MEMORY_LIMIT, duckdb_memory_limit, run_dbt


@pytest.fixture(scope="module")
def ours(built_warehouse):
    return baselines.warehouse_marts(built_warehouse.path)


@pytest.mark.parametrize("baseline", ["pandas", "floor"])
def test_baseline_equals_the_fleet_marts(built_warehouse, ours, baseline):
    compute = {"pandas": baselines.pandas_marts, "floor": baselines.floor_marts}[baseline]
    theirs = compute(built_warehouse.lake)
    comparisons = baselines.compare_marts(ours, theirs)
    report = "\n".join(comparison.summary() for comparison in comparisons)
    assert baselines.comparisons_equal(comparisons), report
    # the marts are not trivially empty: every day of the lake has sessions and readings
    for comparison in comparisons:
        assert comparison.rows_expected >= 45, report
    assert ours["mart_unlock_daily"]["is_complete_day"].any()
    assert not ours["mart_unlock_daily"]["is_complete_day"].all()


def test_the_floor_is_one_statement(built_warehouse):
    sql = baselines.floor_sql(built_warehouse.lake)
    assert len(duckdb.connect().extract_statements(sql)) == 1
    assert "create " not in sql.lower()


def test_the_check_reports_each_difference_by_column(ours):
    theirs = {mart: frame.copy() for mart, frame in ours.items()}
    unlock = theirs["mart_unlock_daily"]
    unlock.loc[3, "attempts"] += 1
    unlock.loc[5, "latency_p95_ms"] += 1e-6 * unlock.loc[5, "latency_p95_ms"]
    unlock.loc[7, "is_complete_day"] = not unlock.loc[7, "is_complete_day"]
    walkaway = theirs["mart_walkaway_daily"]
    walkaway.loc[2, "time_to_lock_p50_ms"] = np.nan
    theirs["mart_fob_battery_daily"] = theirs["mart_fob_battery_daily"].drop(index=0)

    unlock_diff, walkaway_diff, fob_diff = baselines.compare_marts(ours, theirs)
    assert {d.column: d.rows for d in unlock_diff.columns} == {
        "attempts": 1,
        "latency_p95_ms": 1,
        "is_complete_day": 1,
    }
    assert [d.column for d in walkaway_diff.columns] == ["time_to_lock_p50_ms"]
    assert fob_diff.missing_days == [str(ours["mart_fob_battery_daily"]["metric_date"][0].date())]
    assert not any(c.equal for c in (unlock_diff, walkaway_diff, fob_diff))

    # a float difference within the tolerance is equal
    close = {mart: frame.copy() for mart, frame in ours.items()}
    close["mart_unlock_daily"]["latency_p50_ms"] *= 1 + baselines.FLOAT_RTOL / 10
    assert baselines.comparisons_equal(baselines.compare_marts(ours, close))


def test_bench_smoke_measures_each_step_in_its_own_process(tmp_path):
    """The bench plumbing on a tiny lake: generator, the one-day incremental build and both
    baselines (the full builds are left to `make bench`; they run as the incremental does)."""
    from access_analytics.bench.report import write_markdown
    from access_analytics.bench.run import fleet_for, run_bench, write_report

    assert fleet_for(1_000_000) == (659, 30)
    assert fleet_for(10_000) == (7, 30)
    steps = ("generate", "build_incremental", "pandas", "floor")
    report = run_bench(10_000, tmp_path, runs=1, steps=steps, say=lambda _: None)
    write_report(report, tmp_path / "bench-10000.json")
    summary = write_markdown(tmp_path, tmp_path / "BENCHMARKS.md").read_text()
    assert f"## {report['scale']['raw_events']:,} raw access events" in summary
    assert "`make bench BENCH_EVENTS=10000 BENCH_RUNS=1`" in summary
    assert report["duckdb_memory_limit"] == duckdb_memory_limit()
    assert f", DuckDB memory limit {duckdb_memory_limit()}. Command:" in summary
    for label in ("generator", "adding one ingest day", "pandas notebook", "DuckDB statement"):
        assert label in summary, label
    assert summary.count("| equal to the marts |") == 0  # no full build to compare with
    assert (
        "Not run at this scale (`--step` chose the others): `dbt build`, models only,"
        " `dbt build` with data and unit tests, chart data queries." in summary
    )
    assert "| generator at least 1 M events/s |" in summary
    for plot in ("time", "memory"):  # drawn beside the summary, linked from it
        assert (tmp_path / "docs" / "benchmarks" / f"bench-{plot}.png").read_bytes()[:4] == (
            b"\x89PNG"
        )
        assert f"(docs/benchmarks/bench-{plot}.png)" in summary
    detail = report["steps"]["build_incremental"]["runs"][0]["detail"]
    slowest = detail["slowest_models"]
    assert len(slowest) == 8 and all(seconds >= 0 for _, seconds in slowest)
    assert f"`{slowest[0][0]}` " in summary
    # the models that ran while memory was highest, from samples taken as they ran
    by_memory = detail["peak_memory_models"]
    peaks = [mb for _, mb in by_memory]
    assert len(peaks) == 5 and min(peaks) > 20 and peaks == sorted(peaks, reverse=True)
    assert max(peaks) <= report["steps"]["build_incremental"]["max_peak_rss_mb"] + 1
    measured = report["steps"]
    assert set(measured) == set(steps)
    assert 5_000 < report["scale"]["raw_events"] < 20_000
    for name, step in measured.items():
        assert step["max_peak_rss_mb"] > 20, name  # a child process was sampled
        assert step["median_wall_s"] > 0, name
        if name != "build_incremental":  # dbt reports no time of its own to the bench
            assert 0 < step["median_seconds"] <= step["median_wall_s"], name
    assert measured["generate"]["events_per_s"] > 0

    # pandas out of memory at a larger scale: no result, no plotted point, and the target
    # against it does not apply; the chart step's timings and their target are shown.
    from access_analytics.bench.report import scale_section

    report["steps"]["build_models"] = report["steps"]["build_incremental"]
    report["steps"]["pandas"]["out_of_memory"] = True
    report["charts"] = {
        "charts": 49,
        "rounds": 5,
        "calls": 245,
        "p50_ms": 81.4,
        "p95_ms": 312.0,
        "slowest": [["Fleet / Latency", 420.0], ["Fleet / Locks", 300.0]],
        "serving_mb": 12.3,
    }
    section = scale_section(report)
    assert "| **out of memory**: stopped at the cap, no result |" in section
    assert "| build at least 10x faster than pandas | pandas out of memory | does not apply |" in (
        section
    )
    assert "49 charts of every dashboard, 5 calls each" in section
    assert "**p50 81 ms, p95 312 ms**" in section
    assert "Slowest (median): Fleet / Latency 420 ms, Fleet / Locks 300 ms." in section
    assert "| chart queries' p95 under 300 ms | 312 ms | **no** |" in section

    # The held-back day is back in the lake, missing from the day-before build, and the
    # measured run added it.
    day = report["scale"]["incremental_day"]
    assert (tmp_path / "lake" / "raw" / "access_events" / f"ingest_date={day}").is_dir()
    newest = "select max(ingest_date) from staging.base_raw__access_events"
    for warehouse, expected in (("warehouse_day_before", "<"), ("warehouse_incremental", "=")):
        with duckdb.connect(str(tmp_path / f"{warehouse}.duckdb"), read_only=True) as con:
            (built,) = con.execute(newest).fetchone()
        assert (str(built) < day) if expected == "<" else (str(built) == day), warehouse


def test_dbt_runs_duckdb_under_the_configured_memory_limit_and_spill_directory(
    tmp_path, monkeypatch
):
    """ACCESS_DUCKDB_MEMORY_LIMIT and ACCESS_DUCKDB_TEMP_DIR reach the build's DuckDB; without
    the latter it spills beside the warehouse file."""
    query = (
        "select current_setting('memory_limit') as memory_limit,"
        " current_setting('temp_directory') as temp_directory"
    )

    def settings(**env: str) -> dict[str, str]:
        completed = run_dbt(
            ["show", "--quiet", "--inline", query, "--output", "json"],
            lake=tmp_path / "lake",
            warehouse=tmp_path / "warehouse.duckdb",
            target_path=tmp_path / "target",
            env=env,
        )
        (row,) = json.loads(completed.stdout[completed.stdout.index("{") :])["show"]
        return row

    monkeypatch.delenv("ACCESS_DUCKDB_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("ACCESS_DUCKDB_TEMP_DIR", raising=False)
    spill = tmp_path / "spill"
    limited = settings(ACCESS_DUCKDB_MEMORY_LIMIT="1GB", ACCESS_DUCKDB_TEMP_DIR=str(spill))
    assert limited == {"memory_limit": "953.6 MiB", "temp_directory": str(spill)}
    default = settings()
    assert default["memory_limit"] == "5.5 GiB"
    assert default["temp_directory"] == str(tmp_path / "warehouse.duckdb") + ".tmp"
    # The floor baseline runs under the same limit, by the same variable and default.
    assert duckdb_memory_limit() == DEFAULT_MEMORY_LIMIT
    with baselines.floor_connection() as con:
        assert con.execute(query).fetchone()[0] == default["memory_limit"]
    monkeypatch.setenv("ACCESS_DUCKDB_MEMORY_LIMIT", "1GB")
    with baselines.floor_connection(spill) as con:
        assert con.execute(query).fetchone() == (limited["memory_limit"], str(spill))


def test_a_step_past_its_memory_cap_is_stopped_and_says_so():
    """The pandas baseline at a scale that does not fit: its processes are killed at the
    cap (long before the 60 s they would sleep), and the run records out of memory; a
    failure below the cap is still an error."""
    import subprocess
    import sys
    import time

    from access_analytics.bench.run import measure

    def grow(megabytes: int, exit_code: int = 0):
        def action():
            code = f"import sys, time; block = b'x' * ({megabytes} * 2**20); time.sleep(60)"
            if exit_code:
                code = f"import sys; sys.exit({exit_code})"
            completed = subprocess.run([sys.executable, "-c", code], check=False)
            if completed.returncode != 0:
                raise RuntimeError(f"exit {completed.returncode}")

        return action

    # A process of the caller's started before the step (as the test session's Superset
    # is) is not the step's: it neither counts toward the cap nor is killed with the step.
    bystander = subprocess.Popen(
        [sys.executable, "-c", "import time; block = b'x' * (200 * 2**20); time.sleep(60)"]
    )
    try:
        time.sleep(1)
        stopped = measure(grow(400), memory_cap_mb=150)
        assert stopped.detail == {"out_of_memory": True}
        assert 150 < stopped.peak_rss_mb < 600
        assert stopped.wall_s < 30
        assert bystander.poll() is None, "a process started before the step was killed"
    finally:
        bystander.kill()
        bystander.wait()

    with pytest.raises(RuntimeError, match="exit 3"):
        measure(grow(0, exit_code=3), memory_cap_mb=150)


def test_the_chart_step_times_every_chart_on_a_private_superset(built_warehouse, tmp_path):
    """The bench publishes its build and times each dashboard chart's data query on a
    Superset of its own, which is gone afterwards."""
    from access_analytics.bench.charts import chart_timings
    from access_analytics.local_servers import listening_pids
    from access_analytics.superset import settings
    from access_analytics.superset.assets import load_bundle

    charts_in_dashboards = sum(
        1
        for dashboard in load_bundle(settings.DASHBOARDS_DIR).of("dashboards").values()
        for node in dashboard["position"].values()
        if isinstance(node, dict) and node.get("type") == "CHART"
    )
    timings = chart_timings(built_warehouse.path, built_warehouse.manifest, tmp_path, rounds=2)
    assert timings["charts"] == charts_in_dashboards > 20
    assert timings["calls"] == 2 * charts_in_dashboards
    assert 0 < timings["p50_ms"] <= timings["p95_ms"]
    assert len(timings["slowest"]) == 5
    assert timings["serving_mb"] > 0
    assert (tmp_path / "serving" / "warehouse.duckdb").exists()
    log = (tmp_path / "superset" / "superset.log").read_text()
    port = int(log.split("Listening at: http://127.0.0.1:", 1)[1].split(" ", 1)[0])
    assert not listening_pids(port)


def test_the_demo_is_timed_in_a_fresh_clone_that_is_removed_afterwards(tmp_path, monkeypatch):
    """`make bench-demo` plumbing, with a quick make target in place of `make demo`: the
    clone is of the committed HEAD, sees none of our project variables, and is gone
    afterwards; a failing command names its log and still removes the clone."""
    import subprocess

    from access_analytics.bench.demo_clone import time_demo_from_clone
    from access_analytics.bench.report import demo_section
    from access_analytics.paths import PROJECT_ROOT

    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True
    ).stdout.strip()
    monkeypatch.setenv("ACCESS_WAREHOUSE_PATH", str(tmp_path / "ours.duckdb"))
    probe = ("bash", "-c", 'test -f Makefile && echo "warehouse=${ACCESS_WAREHOUSE_PATH-unset}"')
    timed = time_demo_from_clone(PROJECT_ROOT, tmp_path, command=probe)
    assert timed["project_commit"] == head
    assert timed["wall_s"] >= 0
    assert (tmp_path / "demo-clone.log").read_text().strip() == "warehouse=unset"
    assert not (tmp_path / "demo-clone").exists()
    section = demo_section({**timed, "wall_s": 141.4, "command": "make demo"})
    assert "**2 min 21 s**, from `make demo` in a new clone of commit " + head[:12] in section

    with pytest.raises(RuntimeError, match=r"failed in a fresh clone \(exit 3\); see .*demo-clone"):
        time_demo_from_clone(PROJECT_ROOT, tmp_path, command=("bash", "-c", "exit 3"))
    assert not (tmp_path / "demo-clone").exists()


def test_the_spill_settings_are_given_once_when_the_build_database_opens(tmp_path):
    """dbt-duckdb SETs a profile's `settings` again on every new cursor, and DuckDB refuses
    to set the temp directory once a query has spilled into it: a build large enough to
    spill (100 M events) failed on the next model. The profile gives the memory limit and
    the temp directory as connect-time options instead, which no cursor sets again."""
    import yaml

    from access_analytics.paths import PROJECT_ROOT

    profiles = yaml.safe_load((PROJECT_ROOT / "profiles.yml").read_text())
    duckdb_target = profiles["access_analytics"]["outputs"]["duckdb"]
    assert set(duckdb_target["config_options"]) == {"memory_limit", "temp_directory"}
    assert not {"memory_limit", "temp_directory"} & set(duckdb_target.get("settings") or {})

    spill = tmp_path / "spill"
    config = {"memory_limit": "64MB", "temp_directory": str(spill), "threads": 1}
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), config=config) as con:
        con.execute("create table numbers as select range as i, random() as r from range(3000000)")
        con.execute("create table sorted as select * from numbers order by r")  # spills
        assert spill.is_dir()
        # what a cursor of a database opened with the options runs: no SET, no error
        assert con.cursor().execute("select count(*) from sorted").fetchone() == (3_000_000,)
        # what re-applied `settings` did on the next cursor
        with pytest.raises(duckdb.NotImplementedException, match="Cannot switch temporary"):
            con.cursor().execute(f"set temp_directory = '{spill}'")


def test_growth_from_one_size_to_the_next_is_held_against_the_data_growth():
    """100 M events may take at most 12x the time of 10 M (1.2x the data's growth)."""
    from access_analytics.bench.report import growth_section

    def report(events: int, build_s: float | None) -> dict:
        steps = {} if build_s is None else {"build_models": {"median_wall_s": build_s}}
        return {"scale": {"raw_events": events}, "steps": steps}

    sizes = [(1_000_000, 20.0), (5_000_000, None), (10_000_000, 100.0), (100_000_000, 1300.0)]
    lines = growth_section([report(events, build_s) for events, build_s in sizes])
    assert lines[1] == "## Growth with data size"
    assert "| 1,000,000 to 10,000,000 | 10.0x | 5.0x | at most 12.0x | yes |" in lines
    assert "| 10,000,000 to 100,000,000 | 10.0x | 13.0x | at most 12.0x | **no** |" in lines
    assert growth_section([report(1_000_000, 20.0)]) == []


def test_steps_carried_over_from_an_earlier_run_are_named_with_that_run():
    """A rerun of some steps keeps the other steps of the earlier report on the same lake,
    and the section says which figures come from which run; other lakes do not mix."""
    from access_analytics.bench.report import carry_over, scale_section

    def report(commit: str, started_at: str, steps: dict, events: int = 1000) -> dict:
        return {
            "started_at": started_at,
            "machine": {
                "logical_cpus": 2,
                "memory_gb": 24,
                "platform": "linux",
                "load_average_at_start": [0.1, 0.1, 0.1],
            },
            "versions": {"project_commit": commit},
            "scale": {
                "raw_events": events,
                "requested_events": events,
                "vehicles": 1,
                "days": 1,
                "seed": 1,
                "raw_readings": 1,
                "parquet_mb": 1.0,
            },
            "runs": 1,
            "steps": {
                name: {
                    "median_wall_s": wall,
                    "max_peak_rss_mb": 100.0,
                    "runs": [{"detail": {}}],
                    "events_per_s": 1e6,
                }
                for name, wall in steps.items()
            },
        }

    older = report("a" * 40, "2026-01-01T10:00:00", {"generate": 3.0, "build_models": 90.0})
    older["charts"] = {
        "charts": 2,
        "rounds": 1,
        "calls": 2,
        "p50_ms": 1.0,
        "p95_ms": 2.0,
        "slowest": [["A", 2.0]],
        "serving_mb": 1.0,
    }
    newer = report("b" * 40, "2026-01-02T10:00:00", {"build_models": 60.0})
    merged = carry_over(newer, older)
    assert merged["steps"]["build_models"]["median_wall_s"] == 60.0
    assert merged["steps"]["generate"]["median_wall_s"] == 3.0
    assert merged["charts"] == older["charts"]
    assert "generate" not in newer["steps"]  # the newer report itself is left as it was
    section = scale_section(merged)
    assert (
        "Carried over from the run of 2026-01-01T10:00:00 (commit aaaaaaaaaaaa), not repeated"
        " in this one: generator (the lake's Parquet files), chart data queries." in section
    )
    assert "commit bbbbbbbbbbbb" in section
    assert "carried_over" not in carry_over(newer, report("a" * 40, "x", {"build_models": 1.0}))
    with pytest.raises(ValueError, match="different lakes"):
        carry_over(newer, report("a" * 40, "x", {"generate": 1.0}, events=2000))


def test_a_memory_peak_counts_for_every_model_running_then(tmp_path):
    """dbt's start and end of each model pick the samples taken while it ran; two models
    running at once share a peak, a model before or after it does not."""
    from access_analytics.bench.report import _peak_memory_models
    from access_analytics.bench.run import peak_memory_models

    def result(name: str, start: int, end: int) -> dict:
        def at(second: int) -> str:
            return f"2026-11-29T10:00:{second:02d}.000000Z"

        timing = [{"name": "execute", "started_at": at(start), "completed_at": at(end)}]
        return {"unique_id": f"model.access_analytics.{name}", "timing": timing}

    run_results = tmp_path / "run_results.json"
    results = [result("base", 0, 10), result("left", 10, 20), result("right", 12, 18)]
    results.append({"unique_id": "test.access_analytics.not_null", "timing": []})
    run_results.write_text(json.dumps({"results": results}))
    epoch = datetime(2026, 11, 29, 10, 0, tzinfo=UTC).timestamp()
    mb = 2**20
    samples = [(epoch + 5, 800 * mb), (epoch + 11, 900 * mb), (epoch + 15, 3000 * mb)]
    samples.append((epoch + 19, 1000 * mb))
    models = peak_memory_models(run_results, samples)
    assert models == [["left", 3000], ["right", 3000], ["base", 800]]
    report = {"steps": {"build_models": {"runs": [{"detail": {"peak_memory_models": models}}]}}}
    assert "`left` 3,000 MB, `right` 3,000 MB, `base` 800 MB." in _peak_memory_models(report)[-1]
