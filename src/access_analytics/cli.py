"""Command-line entry point `access-analytics`: thin wrappers around the package's functions."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from access_analytics.bench import STEPS as BENCH_STEPS
from access_analytics.generator.config import DEFAULTS

app = typer.Typer(
    help="Access analytics: raw telemetry generator and project tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """Access analytics: raw telemetry generator and project tools."""


def _rate(help_text: str) -> object:
    return typer.Option(help=help_text + " (0..1)")


@app.command()
def generate(
    lake: Annotated[
        Path,
        typer.Option(
            envvar="ACCESS_LAKE_ROOT", help="Lake root to write (raw/... and manifest.json)."
        ),
    ] = DEFAULTS.lake,
    vehicles: Annotated[int, typer.Option(help="Fleet size.")] = DEFAULTS.vehicles,
    days: Annotated[int, typer.Option(help="Number of simulated days.")] = DEFAULTS.days,
    start_date: Annotated[
        str, typer.Option(help="First simulated day, YYYY-MM-DD.")
    ] = DEFAULTS.start_date.isoformat(),
    seed: Annotated[
        int, typer.Option(help="Random seed: same seed and options, same bytes.")
    ] = DEFAULTS.seed,
    duplicate_rate: Annotated[
        float, _rate("Share of rows uploaded twice")
    ] = DEFAULTS.duplicate_rate,
    late_rate: Annotated[float, _rate("Share of trips arriving 1-24 h late")] = DEFAULTS.late_rate,
    very_late_rate: Annotated[
        float, _rate("Share of trips arriving over 24 h late")
    ] = DEFAULTS.very_late_rate,
    invalid_rate: Annotated[
        float, _rate("Share of rows broken (quarantined)")
    ] = DEFAULTS.invalid_rate,
    skew_rate: Annotated[
        float, _rate("Share of vehicle-days with a clock up to 5 min ahead")
    ] = DEFAULTS.skew_rate,
    unknown_firmware_rate: Annotated[
        float, _rate("Share of vehicle-days on a build missing from the registry")
    ] = DEFAULTS.unknown_firmware_rate,
    files_per_partition: Annotated[
        int, typer.Option(help="Parquet files per partition.")
    ] = DEFAULTS.files_per_partition,
    overwrite: Annotated[
        bool, typer.Option(help="Replace the lake in a non-empty directory.")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar or summary.")] = False,
) -> None:
    """Generate a raw telemetry lake that follows the raw contract."""
    from access_analytics.generator import GeneratorError, generate_lake

    try:
        manifest = generate_lake(
            lake,
            vehicles=vehicles,
            days=days,
            start_date=start_date,
            seed=seed,
            duplicate_rate=duplicate_rate,
            late_rate=late_rate,
            very_late_rate=very_late_rate,
            invalid_rate=invalid_rate,
            skew_rate=skew_rate,
            unknown_firmware_rate=unknown_firmware_rate,
            files_per_partition=files_per_partition,
            overwrite=overwrite,
            progress=not quiet,
        )
    except GeneratorError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=2) from None
    if not quiet:
        tables = manifest["tables"]
        events = tables["access_events"]["rows"]
        readings = tables["fob_battery_readings"]["rows"]
        typer.echo(f"Wrote {events:,} access events and {readings:,} fob readings to {lake}")


@app.command()
def build(
    lake: Annotated[
        Path, typer.Option(envvar="ACCESS_LAKE_ROOT", help="Lake root to read.")
    ] = DEFAULTS.lake,
    full_refresh: Annotated[
        bool, typer.Option(help="Rebuild incremental models from the whole lake.")
    ] = False,
    publish: Annotated[
        bool, typer.Option(help="Publish the build to the served file when it passed.")
    ] = False,
) -> None:
    """dbt build into a copy of the last good build; it replaces it only when every node passed."""
    from access_analytics import warehouse
    from access_analytics.build import BuildError
    from access_analytics.build import build as run_build

    good = warehouse.build_path()
    try:
        record = run_build(lake, good, full_refresh=full_refresh, say=typer.echo)
    except BuildError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"Build {record.invocation_id} passed ({record.nodes_run} nodes): {good}")
    if publish:
        try:
            served = warehouse.publish(good, warehouse.serving_path())
        except warehouse.PublishError as error:
            typer.echo(f"Error: not published, the served file is unchanged: {error}", err=True)
            raise typer.Exit(code=1) from None
        typer.echo(f"Published {served}")


@app.command("build-record")
def build_record(
    as_json: Annotated[bool, typer.Option("--json", help="The whole record as JSON.")] = False,
    layer: Annotated[
        str | None, typer.Option(help="Only this layer's nodes (staging, marts, ...).")
    ] = None,
    manifest: Annotated[
        Path | None, typer.Option(help="The build's dbt manifest.json (default target/).")
    ] = None,
) -> None:
    """What the newest build did, node by node: exits 1 when a node (of --layer) did not pass."""
    from access_analytics import warehouse
    from access_analytics.build import LAYERS, build_report

    if layer is not None and layer not in LAYERS:
        typer.echo(f"Error: --layer must be one of {', '.join(LAYERS)}", err=True)
        raise typer.Exit(code=2)
    try:
        report = build_report(warehouse.build_path(), manifest or warehouse.default_manifest())
    except warehouse.PublishError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None
    failed = report.failed(layer)
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        record = report.record
        shown = [n for n in report.nodes if layer in (None, report.layer(n))]
        typer.echo(
            f"Build {record.invocation_id} started {record.started_at}: {record.status},"
            f" {len(shown)} node(s){f' in {layer}' if layer else ''}, {len(failed)} not passed"
            f" ({report.path})"
        )
        for node in failed:
            typer.echo(f"  {node.status}: {node.unique_id}  {node.message}".rstrip())
    if failed:
        raise typer.Exit(code=1)


# Superset: dashboards as code (import/export/check/sync/publish/benchmark) and the server.
from access_analytics.superset.cli import dashboards_app, serve, superset_app  # noqa: E402

app.add_typer(dashboards_app, name="dashboards")
app.add_typer(superset_app, name="superset")
app.command("serve")(serve)

# Trino: the local scale-out engine (up/down/status/register-lake).
from access_analytics.trino.cli import trino_app  # noqa: E402

app.add_typer(trino_app, name="trino")

# Alerts as code (alerts/rules.yml): a dry run and the sending step of the daily pipeline.
alerts_app = typer.Typer(
    help="Alert rules over the published marts: check (dry run) and send.",
    no_args_is_help=True,
)
app.add_typer(alerts_app, name="alerts")

_RULES_OPTION = typer.Option(help="The rules file.")
_WAREHOUSE_OPTION = typer.Option(
    help="DuckDB file to evaluate (default: the published one, ACCESS_SERVING_WAREHOUSE_PATH)."
)
_AS_OF_OPTION = typer.Option(
    help="Evaluate as of this day, YYYY-MM-DD (default today, UTC): for backfills.",
    formats=["%Y-%m-%d"],
)


@alerts_app.command("check")
def alerts_check(
    warehouse: Annotated[Path | None, _WAREHOUSE_OPTION] = None,
    rules: Annotated[Path, _RULES_OPTION] = Path("alerts/rules.yml"),
    as_of: Annotated[datetime | None, _AS_OF_OPTION] = None,
) -> None:
    """Dry run: print every alert the rules raise now and what `send` would send."""
    from access_analytics import alerts

    try:
        day = as_of.date() if as_of else None
        found = alerts.evaluate(alerts.load_rules(rules), warehouse, as_of=day)
    except alerts.AlertRuleError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None
    pending = {n.key: n.kind for n in alerts.changes(found, alerts.read_state(alerts.state_path()))}
    for alert in found:
        status = pending.get(alert.key, "already sent")
        typer.echo(f"[{alert.rule.severity}] {alert.title()}  ({alert.key}: {status})")
        typer.echo(f"    {alert.message()}")
        typer.echo(f"    to {', '.join(alert.rule.recipients)}; {alert.link}")
    for key, kind in pending.items():
        if kind == "resolved":
            typer.echo(f"[resolved] {key}")
    typer.echo(f"{len(found)} alert(s) hold; {len(pending)} message(s) would be sent.")


@alerts_app.command("send")
def alerts_send(
    warehouse: Annotated[Path | None, _WAREHOUSE_OPTION] = None,
    rules: Annotated[Path, _RULES_OPTION] = Path("alerts/rules.yml"),
    as_of: Annotated[datetime | None, _AS_OF_OPTION] = None,
) -> None:
    """Send what changed since the last run (SMTP and/or webhook from the environment)."""
    from access_analytics import alerts

    try:
        sent = alerts.run(rules, warehouse, as_of=as_of.date() if as_of else None)
    except alerts.AlertRuleError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None
    for notification in sent:
        typer.echo(f"sent {notification.kind}: {notification.subject_line()}")
    typer.echo(f"{len(sent)} message(s) sent.")


@app.command()
def demo(
    vehicles: Annotated[int, typer.Option(help="Fleet size.")] = DEFAULTS.vehicles,
    days: Annotated[int, typer.Option(help="Number of simulated days.")] = DEFAULTS.days,
    serve_dashboards: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the dashboards when built.")
    ] = True,
) -> None:
    """Generate a fleet, build and test the warehouse, and serve the dashboards."""
    from access_analytics.build import BuildError
    from access_analytics.demo import DemoFleet, run_demo
    from access_analytics.generator import GeneratorError
    from access_analytics.superset.server import StartError
    from access_analytics.warehouse import PublishError

    try:
        rows = run_demo(DemoFleet(vehicles=vehicles, days=days), serve=serve_dashboards)
    except (BuildError, GeneratorError, PublishError, StartError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None
    if not all(row.adds_up for row in rows):
        typer.echo("Error: raw rows do not add up (see the table above)", err=True)
        raise typer.Exit(code=1)


@app.command()
def bench(
    events: Annotated[int, typer.Option(help="Raw access events of the lake (about).")] = 1_000_000,
    runs: Annotated[int, typer.Option(help="Runs of each step; times are medians.")] = 3,
    days: Annotated[int, typer.Option(help="Simulated days (fewer for tiny lakes).")] = 30,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 42,
    workdir: Annotated[
        Path, typer.Option(help="Where the lake, warehouse and baseline outputs go.")
    ] = Path("data/bench"),
    out: Annotated[
        Path | None, typer.Option(help="Report JSON (default <workdir>/bench-<events>.json).")
    ] = None,
    step: Annotated[
        list[str] | None,
        typer.Option(help=f"Only these steps (repeatable): {', '.join(BENCH_STEPS)}."),
    ] = None,
    markdown: Annotated[
        Path | None,
        typer.Option(help="Also write this Markdown file from every report in --workdir."),
    ] = None,
    demo_clone: Annotated[
        bool,
        typer.Option(
            "--demo-clone",
            help="Instead: time `make demo` once in a fresh clone (<workdir>/demo.json).",
        ),
    ] = False,
) -> None:
    """Time generator, dbt build and the pandas / DuckDB baselines on a lake of N events."""
    from access_analytics.bench.run import run_bench, write_report

    if demo_clone:
        from access_analytics.bench.demo_clone import time_demo_from_clone
        from access_analytics.paths import PROJECT_ROOT

        typer.echo(f"bench: `make demo` in a fresh clone of {PROJECT_ROOT} (committed HEAD)")
        try:
            timed = time_demo_from_clone(PROJECT_ROOT, workdir.resolve())
        except RuntimeError as error:
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(code=1) from None
        typer.echo(f"make demo: {timed['wall_s']:.0f} s")
        path = write_report(timed, workdir / "demo.json")
        typer.echo(f"Report: {path}")
        if markdown is not None:
            from access_analytics.bench.report import write_markdown

            typer.echo(f"Summary of every report in {workdir}: {write_markdown(workdir, markdown)}")
        return

    steps = tuple(step or BENCH_STEPS)
    unknown = sorted(set(steps) - set(BENCH_STEPS))
    if unknown or runs < 1 or events < 1:
        typer.echo(f"Error: unknown steps {unknown}, or --runs / --events below 1", err=True)
        raise typer.Exit(code=2)
    report = run_bench(
        events, workdir, runs=runs, days=days, seed=seed, steps=steps, say=typer.echo
    )
    path = write_report(report, out or workdir / f"bench-{events}.json")
    typer.echo(f"Report: {path}")
    if markdown is not None:
        from access_analytics.bench.report import write_markdown

        typer.echo(f"Summary of every report in {workdir}: {write_markdown(workdir, markdown)}")
    unequal = [
        name
        for name, step_report in report["steps"].items()
        if not step_report.get("equal_to_marts", {"equal": True})["equal"]
    ]
    if unequal:
        typer.echo(f"Error: {', '.join(unequal)} differ from the marts: timings void", err=True)
        raise typer.Exit(code=1)
