"""`access-analytics trino ...`: run the local Trino and expose the raw lake in it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from access_analytics.trino import lake, server

trino_app = typer.Typer(help="A local Trino 476 (Iceberg + Hive catalogs) for the trino target.")


def _fail(error: Exception) -> None:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@trino_app.command("up")
def up() -> None:
    """Download (once), configure and start Trino; wait until it answers `select 1`."""
    settings = server.TrinoSettings()
    try:
        result = server.start(settings, log=typer.echo)
    except server.TrinoError as error:
        _fail(error)
        return
    if result.already_running:
        typer.echo(f"Trino already running (pid {result.pid}) on port {result.port}")
        return
    typer.echo(
        f"Trino {server.TRINO_VERSION} ready on http://{settings.host}:{result.port} "
        f"(pid {result.pid}) in {result.startup_s:.1f} s, heap -Xmx{result.heap}; "
        f"catalogs: {server.ICEBERG_CATALOG} (Iceberg, dbt), {server.HIVE_CATALOG} (raw lake)"
    )


@trino_app.command("down")
def down() -> None:
    """Stop Trino gracefully (SIGTERM), killing it if it does not stop in time."""
    if server.stop(server.TrinoSettings(), log=typer.echo):
        typer.echo("Trino stopped")
    else:
        typer.echo("Trino was not running")


@trino_app.command("status")
def status() -> None:
    """Show whether Trino runs and answers. Exit code 1 when it does not answer."""
    state = server.status(server.TrinoSettings())
    if not state.running:
        typer.echo(f"Trino is not running (port {state.port})")
        raise typer.Exit(1)
    if not state.ready:
        typer.echo(f"Trino process {state.pid} runs but does not answer on port {state.port}")
        raise typer.Exit(1)
    heap = f"{state.heap_max_bytes / 2**30:.1f} GiB" if state.heap_max_bytes else "?"
    rss = f"{state.rss_bytes / 2**30:.1f} GiB" if state.rss_bytes else "?"
    typer.echo(
        f"Trino {state.version} ready on port {state.port} (pid {state.pid}), "
        f"max heap {heap}, resident {rss}"
    )


@trino_app.command("register-lake")
def register_lake(
    lake_root: Annotated[
        Path | None,
        typer.Option("--lake", help="Lake root holding raw/ (default: $ACCESS_LAKE_ROOT)."),
    ] = None,
    schema: Annotated[
        str | None,
        typer.Option(help="Schema of the raw tables (default: $ACCESS_TRINO_RAW_SCHEMA or raw)."),
    ] = None,
) -> None:
    """Create or refresh the Hive external tables hive.raw.* over the lake's Parquet files."""
    root = lake_root or Path(os.environ.get("ACCESS_LAKE_ROOT", "data/lake"))
    schema = schema or os.environ.get("ACCESS_TRINO_RAW_SCHEMA", lake.RAW_SCHEMA)
    try:
        tables = lake.register_lake(root, schema=schema)
    except (FileNotFoundError, ValueError, server.TrinoError) as error:
        _fail(error)
        return
    except Exception as error:  # the Trino client raises many kinds; all mean "not registered"
        _fail(RuntimeError(f"registering {root} failed: {error}"))
        return
    for table in tables:
        action = "created" if table.created else "refreshed"
        typer.echo(
            f"{server.HIVE_CATALOG}.{schema}.{table.name}: {action}, "
            f"{table.partitions} partitions, {table.rows} rows ({table.location})"
        )
