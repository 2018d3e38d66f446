"""Run dbt for the project from Python with the project's environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from access_analytics.paths import DEMO_PSEUDONYM_KEY, PROJECT_ROOT, venv_bin


class DbtError(RuntimeError):
    """dbt exited non-zero; the message holds the tail of its output."""


def project_commit() -> str:
    """The checkout's commit, with `-dirty` when tracked files changed ('unknown' outside git)."""
    result = subprocess.run(
        ["git", "describe", "--always", "--dirty", "--abbrev=40"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else "unknown"


# The build's DuckDB memory limit: profiles.yml reads the same variable with the same
# default (a test holds the two together); the bench gives its floor the same limit.
MEMORY_LIMIT_ENV = "ACCESS_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "6GB"


def duckdb_memory_limit() -> str:
    """The memory limit the build's DuckDB runs with (ACCESS_DUCKDB_MEMORY_LIMIT)."""
    return os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT


def dbt_env(
    lake: Path | None = None,
    warehouse: Path | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment dbt runs with: lake and warehouse paths made absolute."""
    env = dict(os.environ)
    if lake is not None:
        env["ACCESS_LAKE_ROOT"] = str(Path(lake).resolve())
    if warehouse is not None:
        env["ACCESS_WAREHOUSE_PATH"] = str(Path(warehouse).resolve())
    env.setdefault("ACCESS_PSEUDONYM_KEY", DEMO_PSEUDONYM_KEY)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    # Recorded in the build record (build_meta) and served in build_info.
    env.setdefault("ACCESS_PROJECT_COMMIT", project_commit())
    env.update(extra or {})
    return env


def run_dbt(
    args: Sequence[str],
    *,
    lake: Path | None = None,
    warehouse: Path | None = None,
    target: str = "duckdb",
    env: Mapping[str, str] | None = None,
    stream: bool = False,
    check: bool = True,
    target_path: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `dbt <args>` from the project root; raise DbtError on failure when check is set.

    With stream=True dbt's own per-model progress goes to the terminal as it runs.
    target_path gives the run its own artifacts folder, so runs side by side
    (tests, a demo next to a build) never share target/.
    """
    if warehouse is not None:
        Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    command = [venv_bin("dbt"), *args, "--profiles-dir", str(PROJECT_ROOT), "--target", target]
    if stream and sys.stdout.isatty():
        # Colours for a person at a terminal only; pipes and log files stay plain text.
        command.append("--use-colors")
    if target_path is not None:
        command += ["--target-path", str(target_path), "--log-path", str(target_path)]
    completed = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=dbt_env(lake, warehouse, env),
        text=True,
        stdout=None if stream else subprocess.PIPE,
        stderr=None if stream else subprocess.STDOUT,
        check=False,
    )
    if check and completed.returncode != 0:
        tail = "\n".join((completed.stdout or "").splitlines()[-40:])
        raise DbtError(f"dbt {' '.join(args)} failed (exit {completed.returncode})\n{tail}")
    return completed
