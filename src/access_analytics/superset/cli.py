"""`access-analytics dashboards ...` and `access-analytics serve`."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated

import requests
import typer
from rich.console import Console
from rich.markup import escape

from access_analytics import warehouse
from access_analytics.superset import settings
from access_analytics.superset.assets import AssetError, dump_yaml, load_bundle, write_tree
from access_analytics.superset.check import (
    expected_exposures,
    load_marts,
    run_check,
    sync_descriptions,
)
from access_analytics.superset.client import SupersetClient, SupersetError

# Problems are printed one per line, never wrapped, so CI logs stay greppable.
console = Console(soft_wrap=True)
dashboards_app = typer.Typer(
    help="Superset dashboards as code: import, export, check, sync, publish, warm, benchmark.",
    no_args_is_help=True,
)

Directory = Annotated[Path, typer.Option("--dir", help="The dashboards folder.")]
# SUPERSET_URL, else ACCESS_SUPERSET_URL: the base URL the alerts' links point at.
Url = Annotated[
    str,
    typer.Option(
        "--url", envvar=["SUPERSET_URL", "ACCESS_SUPERSET_URL"], help="Superset base URL."
    ),
]
Username = Annotated[str, typer.Option("--username", envvar="SUPERSET_USERNAME")]
Password = Annotated[
    str | None,
    typer.Option(
        "--password",
        envvar="SUPERSET_PASSWORD",
        help="Default: the demo admin's password file under var/.",
    ),
]
Manifest = Annotated[Path, typer.Option("--manifest", help="The dbt manifest.json.")]
Exposures = Annotated[Path, typer.Option("--exposures", help="The dbt exposures YAML.")]
DEFAULT_URL = "http://localhost:8088"


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


def _password(given: str | None) -> str:
    from access_analytics.superset.server import admin_password_file

    if given:
        return given
    path = admin_password_file()
    if not path.exists():
        _fail("pass --password or SUPERSET_PASSWORD (no demo admin password file)")
    return path.read_text().strip()


@dashboards_app.command("import")
def import_command(
    directory: Directory = settings.DASHBOARDS_DIR,
    url: Url = DEFAULT_URL,
    username: Username = settings.ADMIN_USER,
    password: Password = None,
    database_uri: Annotated[
        str | None,
        typer.Option(
            "--database-uri",
            envvar="SUPERSET_WAREHOUSE_URI",
            help="Warehouse SQLAlchemy URI (default: the published DuckDB file, read-only).",
        ),
    ] = None,
) -> None:
    """Import dashboards/ through /api/v1/assets/import/ (overwrites, idempotent)."""
    from access_analytics.superset.operations import import_dashboards

    try:
        bundle = import_dashboards(
            SupersetClient(url, username, _password(password)),
            directory,
            database_uri or settings.warehouse_uri(),
        )
    except (AssetError, SupersetError) as exc:
        # The import is one transaction in Superset: a rejected bundle changes nothing.
        _fail(f"nothing imported: {exc}")
        return
    except requests.ConnectionError:
        _fail(f"cannot reach Superset at {url} (is it running? make serve)")
        return
    console.print(
        f"imported {len(bundle.of('dashboards'))} dashboards and "
        f"{len(bundle.of('charts'))} charts into {url}"
    )


@dashboards_app.command("export")
def export_command(
    directory: Directory = settings.DASHBOARDS_DIR,
    url: Url = DEFAULT_URL,
    username: Username = settings.ADMIN_USER,
    password: Password = None,
) -> None:
    """Export every dashboard of a running Superset, normalized, into dashboards/."""
    from access_analytics.superset.operations import export_dashboards

    files = export_dashboards(SupersetClient(url, username, _password(password)))
    changed = write_tree(directory, files)
    console.print(f"{len(files)} files, {len(changed)} changed")
    for name in changed:
        console.print(f"  {name}")


@dashboards_app.command("check")
def check_command(
    directory: Directory = settings.DASHBOARDS_DIR,
    manifest: Manifest = settings.DEFAULT_MANIFEST,
    exposures: Exposures = settings.EXPOSURES_FILE,
) -> None:
    """Offline: every dataset, column, metric and reference must exist in the dbt marts."""
    try:
        problems = run_check(directory, manifest, exposures)
    except AssetError as exc:
        _fail(str(exc))
        return
    for problem in problems:
        console.print(f"[red]✗[/red] {problem}")
    if problems:
        _fail(f"{len(problems)} problem(s) in {directory}")
    console.print(f"[green]✓[/green] {directory} matches the dbt marts and exposures")


@dashboards_app.command("sync")
def sync_command(
    directory: Directory = settings.DASHBOARDS_DIR,
    manifest: Manifest = settings.DEFAULT_MANIFEST,
    exposures: Exposures = settings.EXPOSURES_FILE,
) -> None:
    """Copy dataset and column descriptions from the dbt docs; rewrite the exposures."""
    try:
        bundle = load_bundle(directory)
        marts = load_marts(manifest)
    except AssetError as exc:
        _fail(str(exc))
        return
    for name, content in sync_descriptions(bundle, marts).items():
        (directory / name).write_text(dump_yaml(content))
        console.print(f"  descriptions: {name}")
    exposures.parent.mkdir(parents=True, exist_ok=True)
    exposures.write_text(expected_exposures(bundle))
    console.print(f"  exposures: {exposures}")


@dashboards_app.command("publish")
def publish_command(
    build: Annotated[
        Path | None, typer.Option("--from", help="Built warehouse (ACCESS_WAREHOUSE_PATH).")
    ] = None,
    serving: Annotated[
        Path | None,
        typer.Option("--to", help="Served file (ACCESS_SERVING_WAREHOUSE_PATH)."),
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option("--manifest", help="The build's dbt manifest.json (default target/)."),
    ] = None,
) -> None:
    """Publish the marts of a successful build (plain tables only) to the file Superset reads."""
    try:
        target = warehouse.publish(
            build or warehouse.build_path(), serving or warehouse.serving_path(), manifest
        )
    except warehouse.PublishError as exc:
        _fail(f"not published, Superset keeps the previous warehouse: {exc}")
        return
    console.print(f"published {target}")


@dashboards_app.command("warm")
def warm_command(
    directory: Directory = settings.DASHBOARDS_DIR,
    url: Url = DEFAULT_URL,
    username: Username = settings.ADMIN_USER,
    password: Password = None,
) -> None:
    """After a publish: open every dashboard in headless Chromium to fill the chart cache."""
    # Every chart's cache key names the served build, so after a publish the first
    # person opening a dashboard would wait for its queries. A chart that errors, is
    # empty or does not render fails the command, named: a warm step must not hide it.
    from access_analytics.superset.browser import BrowserError, dashboard_pages, open_dashboards

    def report(opening) -> None:  # type: ignore[no-untyped-def]
        mark = "[green]✓[/green]" if opening.ok else "[red]✗[/red]"
        console.print(
            f"{mark} {escape(opening.dashboard.title)}: {opening.dashboard.charts} charts,"
            f" {opening.chart_queries} chart queries, {opening.cached_queries} already cached,"
            f" {opening.seconds:.1f} s"
        )

    start = time.perf_counter()
    try:
        pages = dashboard_pages(load_bundle(directory))
        openings = open_dashboards(url, username, _password(password), pages, each=report)
    except (AssetError, BrowserError) as exc:
        _fail(escape(f"dashboards not warmed: {exc}"))
        return
    seconds = time.perf_counter() - start
    problems = [(o.dashboard.title, p) for o in openings for p in o.problems]
    for title, problem in problems:
        console.print(f"[red]✗[/red] {escape(title)}: {escape(str(problem))}")
    if problems:
        named = "; ".join(f"{title}: {problem}" for title, problem in problems)
        _fail(escape(f"{len(problems)} chart problem(s), the other charts are warm: {named}"))
    console.print(
        f"warmed {len(openings)} dashboards"
        f" ({sum(o.chart_queries for o in openings)} chart queries) in {seconds:.1f} s"
    )


@dashboards_app.command("benchmark")
def benchmark_command(
    directory: Directory = settings.DASHBOARDS_DIR,
    url: Url = DEFAULT_URL,
    username: Username = settings.ADMIN_USER,
    password: Password = None,
    rounds: Annotated[int, typer.Option("--rounds", help="Calls per chart.")] = 5,
) -> None:
    """p50/p95 of every chart's /api/v1/chart/data call, caches bypassed."""
    from access_analytics.superset.operations import benchmark

    result = benchmark(
        SupersetClient(url, username, _password(password)), load_bundle(directory), rounds
    )
    console.print(json.dumps(result, indent=2))


def serve(
    port: Annotated[int, typer.Option("--port")] = 8088,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    directory: Directory = settings.DASHBOARDS_DIR,
    stop: Annotated[bool, typer.Option("--stop", help="Only stop a running server.")] = False,
    foreground: Annotated[
        bool, typer.Option("--foreground", help="Stay attached; Ctrl-C stops Superset.")
    ] = False,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Local demo: generated secret key and admin password under var/ (make targets).",
        ),
    ] = False,
) -> None:
    """(Re)start Superset on the published warehouse; import dashboards, apply roles."""
    from access_analytics.superset.server import serve_dashboards, stop_recorded_server

    if stop:
        if stop_recorded_server():
            console.print("stopped the running Superset")
        return
    try:
        served = serve_dashboards(
            port, host, directory, step=lambda title: console.status(title), demo=demo
        )
    except warehouse.PublishError as exc:
        _fail(f"{exc} (build and publish the warehouse first: make demo)")
        return
    except RuntimeError as exc:
        _fail(str(exc))
        return
    print_login(served)
    if foreground:
        assert served.server.process is not None
        try:
            served.server.process.wait()
        except KeyboardInterrupt:
            stop_recorded_server()


def print_login(served) -> None:  # type: ignore[no-untyped-def]
    """The admin password is shown once, when it was generated; afterwards only its file."""
    from access_analytics.superset.server import admin_password_file

    server = served.server
    console.print(
        f"\nSuperset serves the dashboards at [bold]http://localhost:{server.port}[/bold]"
        f"   (log: {server.log_path}; stop: access-analytics serve --stop)"
    )
    if served.new_password:
        console.print(
            f"admin password (shown once, kept in {admin_password_file()}, mode 0600): "
            f"[bold]{served.password}[/bold]"
        )
    elif not os.environ.get("SUPERSET_ADMIN_PASSWORD"):
        console.print(f"login: {settings.ADMIN_USER}, password in {admin_password_file()}")


# --- `access-analytics superset ...`: roles, row-level security and users ------------

superset_app = typer.Typer(help="Superset roles, row-level security and users.")
security_app = typer.Typer(help="Roles and row-level security from security/roles.yml.")
user_app = typer.Typer(help="Superset users.")
superset_app.add_typer(security_app, name="security")
superset_app.add_typer(user_app, name="user")


@security_app.command("apply")
def security_apply_command(
    roles: Annotated[Path, typer.Option("--roles", help="The roles file.")] = Path(
        "security/roles.yml"
    ),
) -> None:
    """Make Superset's roles and RLS rules match the file exactly (idempotent)."""
    from access_analytics.superset.security import ROLES_FILE, SecurityError, apply_security

    path = roles if roles.is_absolute() else settings.REPO_ROOT / roles
    try:
        changes = apply_security(
            settings.superset_env(), warehouse.serving_path(), path or ROLES_FILE
        )
    except SecurityError as exc:
        _fail(str(exc))
        return
    for change in changes:
        console.print(f"  {change}")
    console.print(f"{len(changes)} change(s); Superset matches {path}")


@user_app.command("add")
def user_add_command(
    username: Annotated[str, typer.Argument(help="The login name.")],
    role: Annotated[str, typer.Option("--role", help="A role of security/roles.yml.")],
) -> None:
    """Add a user (or reset its password and role); password from ACCESS_USER_PASSWORD."""
    from access_analytics.superset.security import SecurityError, set_user

    password = os.environ.get("ACCESS_USER_PASSWORD") or typer.prompt(
        f"Password for {username}", hide_input=True, confirmation_prompt=True
    )
    try:
        console.print(set_user(settings.superset_env(), username, password, role))
    except SecurityError as exc:
        _fail(str(exc))
