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

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from access_analytics.dbt_runner import run_dbt
from access_analytics.warehouse import (
    BuildRecord,
    NodeResult,
    PublishError,
    check_build,
    read_build_file,
    serving_path,
)

# Where a node belongs, for reports that point at the part of the project that failed:
# tests of the macros alone, the seeds, then the model folders. A test of the raw lake
# alone belongs to staging, where the raw contract (the sources) is declared.
LAYERS = ("macros", "seeds", "staging", "intermediate", "marts", "restricted")


class BuildError(RuntimeError):
    """The build failed; the message says why and where the failed file is."""


def building_path(good: Path) -> Path:
    return good.parent / ".building" / good.name


def failed_path(good: Path) -> Path:
    return good.parent / "failed-build" / good.name


def duckdb_files(path: Path) -> list[Path]:
    """A DuckDB database: the file and, after an unclean stop, its write-ahead log."""
    return [path, path.with_name(path.name + ".wal")]


def _move(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    for file, target in zip(duckdb_files(source), duckdb_files(destination), strict=True):
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
    for stale in duckdb_files(candidate):
        stale.unlink(missing_ok=True)
    # A full refresh rebuilds every relation: copying the last good build would gain nothing.
    reason = "--full-refresh" if full_refresh else _base_of_next_build(good)
    if reason is None:
        say(f"Building into a copy of the last good build {good}")
        for file, copy in zip(duckdb_files(good), duckdb_files(candidate), strict=True):
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
    for leftover in duckdb_files(failed):
        leftover.unlink(missing_ok=True)
    return record


# --- what the newest build did, node by node ------------------------------------------


@dataclass(frozen=True)
class BuildReport:
    """The newest build's record and every node it ran, each placed in its layer."""

    path: Path
    record: BuildRecord
    nodes: list[NodeResult]
    layers: dict[str, str]

    def layer(self, node: NodeResult) -> str:
        return self.layers.get(node.unique_id, "marts")

    def failed(self, layer: str | None = None) -> list[NodeResult]:
        """Nodes that did not pass, errors and test failures before the nodes skipped for them."""
        failed = [n for n in self.nodes if not n.passed and layer in (None, self.layer(n))]
        return sorted(failed, key=lambda n: (n.status == "skipped", n.unique_id))

    def as_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "invocation_id": self.record.invocation_id,
            "started_at": self.record.started_at,
            "finished_at": self.record.finished_at,
            "status": self.record.status,
            "refusal": self.record.refusal(),
            "nodes": [
                {
                    "unique_id": n.unique_id,
                    "resource_type": n.resource_type,
                    "layer": self.layer(n),
                    "status": n.status,
                    "failures": n.failures,
                    "message": n.message,
                }
                for n in self.nodes
            ],
        }


def node_layers(manifest_path: Path) -> dict[str, str]:
    """Each node's layer: a model's or seed's folder; a test's is the layer of what it tests."""
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise PublishError(f"{manifest_path}: cannot read the dbt manifest: {exc}") from exc
    nodes = manifest.get("nodes", {}) | manifest.get("unit_tests", {})
    layers: dict[str, str] = {}
    for uid, node in nodes.items():
        if node.get("resource_type") == "seed":
            layers[uid] = "seeds"
        elif node.get("resource_type") == "model":
            folder = node.get("fqn", ["", ""])[1] if len(node.get("fqn", [])) > 2 else ""
            layers[uid] = folder if folder in LAYERS else "marts"
    for uid, node in nodes.items():
        if uid in layers:
            continue
        depends_on = node.get("depends_on", {}).get("nodes", [])
        tested = [layers[d] for d in depends_on if d in layers]
        if tested:
            layers[uid] = max(tested, key=LAYERS.index)
        else:  # a test of the raw lake, or of a macro on literal values
            on_source = any(d.startswith("source.") for d in depends_on)
            layers[uid] = "staging" if on_source else "macros"
    return layers


def newest_build(good: Path) -> Path:
    """The file of the newest build: the failed one kept aside when it is newer than `good`."""
    failed = failed_path(good)
    if not failed.exists():
        return good
    if not good.exists():
        return failed
    started = {}
    for path in (good, failed):
        try:
            record, _nodes = read_build_file(path)
        except PublishError:
            record = None
        started[path] = record.started_at if record else ""
    return failed if started[failed] >= started[good] else good


def build_report(good: Path, manifest: Path) -> BuildReport:
    """What the newest build (passed or failed) did; PublishError when there is none."""
    path = newest_build(good.resolve())
    record, nodes = read_build_file(path)
    if record is None:
        raise PublishError(f"{path}: has no build record")
    return BuildReport(path, record, nodes, node_layers(manifest))
