"""`make demo`: a realistic fleet, built and tested on DuckDB, served in Superset.

Each step prints a numbered header and shows its own progress (the generator's
progress bar, dbt's per-model lines), so a first run never looks stuck.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from access_analytics.build import build
from access_analytics.conservation import TableBalance, balances
from access_analytics.generator import generate_lake
from access_analytics.generator.config import DEFAULTS
from access_analytics.paths import lake_root
from access_analytics.warehouse import build_path

console = Console()


@dataclass(frozen=True)
class DemoFleet:
    """The demo fleet: big enough for the planted firmware regression to be significant."""

    vehicles: int = DEFAULTS.vehicles
    days: int = DEFAULTS.days
    start_date: str = DEFAULTS.start_date.isoformat()
    seed: int = DEFAULTS.seed


def run_step(number: int, total: int, title: str, action: Callable[[], object]) -> object:
    console.rule(f"[bold][{number}/{total}] {title}")
    started = time.monotonic()
    result = action()
    console.print(f"[green]done[/green] in {time.monotonic() - started:.1f} s")
    return result


def balance_table(rows: list[TableBalance]) -> Table:
    # A light box keeps all six columns readable in an 80-column terminal.
    table = Table(
        title="Raw rows accounted for",
        caption="read = kept + duplicates + quarantined",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
    )
    for column in ("table", "read", "kept", "duplicates", "quarantined", "adds up"):
        if column == "table":
            table.add_column(column, no_wrap=True, min_width=len("fob_battery_readings"))
        else:
            table.add_column(column, justify="right", min_width=len(column))
    for row in rows:
        table.add_row(
            row.table_name,
            f"{row.rows_read:,}",
            f"{row.rows_kept:,}",
            f"{row.duplicates_dropped:,}",
            f"{row.rows_quarantined:,}",
            "[green]yes[/green]" if row.adds_up else "[red]NO[/red]",
        )
    return table


def build_warehouse(lake: Path, warehouse: Path) -> None:
    """dbt build (seeds, models, tests) on DuckDB, streaming dbt's progress."""
    # A full refresh: the demo lake is generated anew, so nothing incremental carries over.
    build(lake, warehouse, full_refresh=True, say=console.print)


def serve_demo() -> None:
    """Publish the build to the file Superset reads, then (re)start Superset with the dashboards."""
    from access_analytics.superset.cli import print_login
    from access_analytics.superset.server import serve_dashboards
    from access_analytics.warehouse import publish, serving_path

    serving = publish(build_path(), serving_path())
    console.print(f"Published the marts to {serving} (atomic swap)")
    served = serve_dashboards(port=8088, step=lambda title: console.status(title), demo=True)
    console.print("[bold green]The five dashboards are served.[/bold green]")
    print_login(served)
    console.print(
        "Stop it with `.venv/bin/access-analytics serve --stop`; restart with `make serve`."
    )


def run_demo(fleet: DemoFleet | None = None, serve: bool = True) -> list[TableBalance]:
    fleet = fleet or DemoFleet()
    lake, warehouse = lake_root(), build_path()
    total = 4 if serve else 3
    run_step(
        1,
        total,
        f"Generating {fleet.vehicles} vehicles x {fleet.days} days of raw telemetry into {lake}",
        lambda: generate_lake(
            lake,
            vehicles=fleet.vehicles,
            days=fleet.days,
            start_date=fleet.start_date,
            seed=fleet.seed,
            overwrite=True,
            progress=True,
        ),
    )
    run_step(
        2,
        total,
        f"Building and testing the warehouse {warehouse}",
        lambda: build_warehouse(lake, warehouse),
    )
    rows = run_step(3, total, "Checking conservation", lambda: balances(warehouse, lake))
    console.print(balance_table(rows))
    console.print(f"Warehouse: [bold]{warehouse}[/bold] (schemas staging, intermediate, marts)")
    if serve and all(row.adds_up for row in rows):
        run_step(4, total, "Serving the dashboards", serve_demo)
    return rows
