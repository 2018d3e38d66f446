"""`make demo` from a fresh clone, timed once: what a new user waits for before the
dashboards open.

The checkout's committed HEAD is cloned into the bench folder and the command runs
there as a user would run it, with none of this process's project variables (paths,
Superset settings, the virtualenv): the clone sets up its own `.venv` from the lock (uv's
package cache on this machine makes that quick after the first time), generates, builds,
tests and serves. Then `make clean` in the clone stops what it started, and the clone is
removed, also when the command failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

# Variables of this environment that would point the clone at our files or settings.
FOREIGN_PREFIXES = ("ACCESS_", "SUPERSET_", "AIRFLOW", "DBT_")
FOREIGN_NAMES = {"VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PYTHONPATH"}


def clean_env() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if name not in FOREIGN_NAMES and not name.startswith(FOREIGN_PREFIXES)
    }


def time_demo_from_clone(
    repo: Path, workdir: Path, command: Sequence[str] = ("make", "demo")
) -> dict[str, object]:
    """Wall time of `command` in a fresh clone of `repo`; RuntimeError naming the log
    when it fails."""
    workdir.mkdir(parents=True, exist_ok=True)
    clone = workdir / "demo-clone"
    log = workdir / "demo-clone.log"
    shutil.rmtree(clone, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", str(repo), str(clone)], check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout.strip()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    load = [round(value, 2) for value in os.getloadavg()]
    env = clean_env()
    try:
        with log.open("wb") as output:
            started = time.perf_counter()
            completed = subprocess.run(
                list(command), cwd=clone, env=env, stdout=output, stderr=subprocess.STDOUT
            )
            wall = time.perf_counter() - started
        if completed.returncode != 0:
            raise RuntimeError(
                f"`{' '.join(command)}` failed in a fresh clone (exit {completed.returncode});"
                f" see {log}"
            )
    finally:
        # Stops the Superset the demo serves, then the clone goes.
        subprocess.run(["make", "clean"], cwd=clone, env=env, capture_output=True, check=False)
        shutil.rmtree(clone, ignore_errors=True)
    return {
        "command": " ".join(command),
        "wall_s": round(wall, 1),
        "project_commit": commit,
        "started_at": started_at,
        "load_average_at_start": load,
    }
