"""`access-analytics build`: a dbt build that can only ever replace the last good build.

The last good build is the file at ACCESS_WAREHOUSE_PATH. A new build never runs
in it: it runs in a copy (so incremental models keep their state) in the folder
`.building/` beside it, under the same file name (DuckDB names the catalog after
the file, and the views dbt writes name their catalog). When dbt exits 0 and the
file's own build record says every node passed, the copy replaces the last good
build by an atomic rename. Otherwise the last good build is left as it was, and
the failed build is kept in `failed-build/` for inspection, never as the base of
the next build and never published.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from access_analytics.dbt_runner import run_dbt
from access_analytics.warehouse import BuildRecord, PublishError, check_build, serving_path


class BuildError(RuntimeError):
    """The build failed; the message says why and where the failed file is."""


def building_path(good: Path) -> Path:
    return good.parent / ".building" / good.name


def failed_path(good: Path) -> Path:
    return good.parent / "failed-build" / good.name


def _duckdb_files(path: Path) -> list[Path]:
    """A DuckDB database: the file and, after an unclean stop, its write-ahead log."""
    return [path, path.with_name(path.name + ".wal")]


def _move(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    for file, target in zip(_duckdb_files(source), _duckdb_files(destination), strict=True):
        if file.exists():
            file.replace(target)
        else:
            target.unlink(missing_ok=True)


def _base_of_next_build(good: Path) -> str | None:
    """Why the next build starts from an empty file, or None when it starts from `good`."""
    if not good.exists():
        return f"no previous build at {good}"
    try:
        check_build(good)
    except PublishError as exc:
        return f"the previous build is not a good one ({exc})"
    return None


def build(
    lake: Path,
    good: Path,
    *,
    full_refresh: bool = False,
    stream: bool = True,
    target_path: Path | None = None,
    say: Callable[[str], object] = print,
) -> BuildRecord:
    """Build the lake into a copy of the last good build; keep it only when it passed."""
    good = good.resolve()
    if good == serving_path().resolve():
        raise BuildError(f"{good} is the served file: build into ACCESS_WAREHOUSE_PATH instead")
    candidate, failed = building_path(good), failed_path(good)
    candidate.parent.mkdir(parents=True, exist_ok=True)
    for stale in _duckdb_files(candidate):
        stale.unlink(missing_ok=True)
    # A full refresh rebuilds every relation: copying the last good build would gain nothing.
    reason = "--full-refresh" if full_refresh else _base_of_next_build(good)
    if reason is None:
        say(f"Building into a copy of the last good build {good}")
        for file, copy in zip(_duckdb_files(good), _duckdb_files(candidate), strict=True):
            if file.exists():
                shutil.copyfile(file, copy)
    else:
        say(f"Building from scratch: {reason}")
    arguments = ["build", "--full-refresh"] if full_refresh else ["build"]
    completed = run_dbt(
        arguments,
        lake=lake,
        warehouse=candidate,
        stream=stream,
        check=False,
        target_path=target_path,
    )
    try:
        record = check_build(candidate)
        if completed.returncode != 0:
            raise PublishError(f"dbt build exited {completed.returncode}")
    except PublishError as exc:
        _move(candidate, failed)
        last_good = f"the last good build {good} is unchanged" if good.exists() else "no good build"
        raise BuildError(f"build failed: {exc}; {last_good}; the failed one is {failed}") from None
    _move(candidate, good)
    for leftover in _duckdb_files(failed):
        leftover.unlink(missing_ok=True)
    return record
