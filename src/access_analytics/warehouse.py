"""The DuckDB files: the one dbt builds and the ones Superset serves, and publishing between them.

dbt builds into its own file (staging views that read the raw lake, intermediate
tables, marts, the restricted identity map). Superset never reads it. Publishing
writes NEW files instead, from what the dbt manifest says is public:

- the serving file: every model of schema `marts` as a plain table (no view, so
  no SQL text and no pseudonym key; no staging, intermediate or restricted
  schema) plus a `build_info` table describing the build;
- the restricted file beside it: only `restricted.*`, reached through its own
  Superset connection.

Each file is written under a temporary name, checked, then renamed over the
served one. A rename is atomic on one filesystem: readers see the old or the new
file, and connections already open keep reading the old inode.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from access_analytics.paths import PROJECT_ROOT

PUBLIC_SCHEMA = "marts"
RESTRICTED_SCHEMA = "restricted"
RESTRICTED_FILE_NAME = "restricted_identities.duckdb"


class PublishError(RuntimeError):
    pass


def _resolve(value: str | os.PathLike[str]) -> Path:
    """Relative paths are relative to the repository root, wherever the command runs."""
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


def build_path() -> Path:
    """The DuckDB file dbt writes (ACCESS_WAREHOUSE_PATH, as in profiles.yml)."""
    return _resolve(os.environ.get("ACCESS_WAREHOUSE_PATH", "data/warehouse.duckdb"))


def serving_path() -> Path:
    """The marts-only file Superset reads; only ever replaced by an atomic swap."""
    return _resolve(
        os.environ.get("ACCESS_SERVING_WAREHOUSE_PATH", "data/serving/warehouse.duckdb")
    )


def restricted_path(serving: Path | None = None) -> Path:
    """The restricted identity file, always beside the serving file.

    Not named after its schema: DuckDB names the catalog after the file, and a catalog
    named like a schema makes `restricted.x` ambiguous.
    """
    return (serving or serving_path()).with_name(RESTRICTED_FILE_NAME)


def default_manifest() -> Path:
    return PROJECT_ROOT / "target" / "manifest.json"


@dataclass(frozen=True)
class PublishPlan:
    """What the dbt manifest says to publish and what must be there."""

    public: list[str]
    restricted: list[str]
    required: list[str]


def _model_schema(node: dict[str, Any]) -> str:
    return str(node.get("schema") or "")


def _relation(node: dict[str, Any]) -> str:
    return str(node.get("alias") or node["name"])


def plan_from_manifest(manifest_path: Path) -> PublishPlan:
    """Public models (`access: public`, else schema marts), restricted models, exposure needs."""
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise PublishError(f"{manifest_path}: cannot read the dbt manifest: {exc}") from exc
    models = {
        uid: node
        for uid, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") == "model"
    }
    public = sorted(
        _relation(node)
        for node in models.values()
        if _model_schema(node) == PUBLIC_SCHEMA and node.get("access") == "public"
    )
    # Before `access: public` lands every model defaults to "protected": then the schema decides.
    if not public:
        public = sorted(_relation(n) for n in models.values() if _model_schema(n) == PUBLIC_SCHEMA)
    restricted = sorted(
        _relation(n) for n in models.values() if _model_schema(n) == RESTRICTED_SCHEMA
    )
    required: set[str] = set()
    for exposure in manifest.get("exposures", {}).values():
        for uid in exposure.get("depends_on", {}).get("nodes", []):
            node = models.get(uid)
            if node is None:
                continue
            if _model_schema(node) != PUBLIC_SCHEMA:
                raise PublishError(
                    f"exposure {exposure.get('name')} depends on {uid}, "
                    f"outside schema {PUBLIC_SCHEMA}: it would not be served"
                )
            required.add(_relation(node))
    if not required:
        raise PublishError(f"{manifest_path}: no exposure depends on a mart")
    return PublishPlan(public=public, restricted=restricted, required=sorted(required))


def _git_commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def build_info(manifest_path: Path) -> dict[str, str]:
    """The build's identity from run_results.json beside the manifest (the build's target path)."""
    run_results = manifest_path.with_name("run_results.json")
    try:
        metadata = json.loads(run_results.read_text())["metadata"]
    except (OSError, ValueError, KeyError) as exc:
        raise PublishError(f"{run_results}: cannot read the build's run results: {exc}") from exc
    return {
        "invocation_id": str(metadata.get("invocation_id", "")),
        "build_started_at": str(metadata.get("invocation_started_at") or ""),
        "build_finished_at": str(metadata.get("generated_at", "")),
        "dbt_version": str(metadata.get("dbt_version", "")),
        "project_commit": _git_commit(),
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _existing_tables(
    con: duckdb.DuckDBPyConnection, schema: str, catalog: str | None = None
) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables"
        " where table_catalog = coalesce(?, current_database()) and table_schema = ?",
        [catalog, schema],
    ).fetchall()
    return {row[0] for row in rows}


def _copy_schema(
    con: duckdb.DuckDBPyConnection, schema: str, names: list[str], required: list[str]
) -> None:
    """CREATE TABLE ... AS SELECT every relation from the attached build, read-only."""
    available = _existing_tables(con, schema, "build")
    missing = [name for name in required if name not in available]
    if missing:
        raise PublishError(f"schema {schema} lacks {', '.join(missing)}")
    con.execute(f'create schema "{schema}"')
    for name in names:
        if name not in available:
            continue
        try:
            con.execute(
                f'create table "{schema}"."{name}" as select * from build."{schema}"."{name}"'
            )
        except duckdb.Error as exc:
            raise PublishError(f"{schema}.{name} cannot be read: {exc}") from exc


def _write_file(
    build: Path, target: Path, fill: Callable[[duckdb.DuckDBPyConnection], None]
) -> Path:
    """A new DuckDB file under a temporary name beside target, filled from the attached build."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # A neutral name: DuckDB names the catalog after the file, which must not shadow a schema.
    fd, tmp_name = tempfile.mkstemp(prefix=".publishing_", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # DuckDB creates the file itself
    try:
        with duckdb.connect(str(tmp)) as con:
            quoted = str(build).replace("'", "''")
            con.execute(f"attach '{quoted}' as build (read_only)")
            fill(con)
            con.execute("detach build")
            con.execute("checkpoint")
        return tmp
    except duckdb.Error as exc:
        tmp.unlink(missing_ok=True)
        raise PublishError(f"{build}: cannot be read: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _swap(tmp: Path, target: Path) -> None:
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def check_serving(path: Path, required: list[str]) -> None:
    """Open read-only: every relation an exposure needs is there and readable."""
    if not path.exists():
        raise PublishError(f"{path}: no such warehouse file (publish a build first)")
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            available = _existing_tables(con, PUBLIC_SCHEMA)
            missing = [name for name in required if name not in available]
            if missing:
                raise PublishError(f"{path}: schema marts lacks {', '.join(missing)}")
            for name in required:
                con.execute(f'select count(*) from marts."{name}"').fetchone()
    except duckdb.Error as exc:
        raise PublishError(f"{path}: cannot be read: {exc}") from exc


def publish(build: Path, serving: Path, manifest: Path | None = None) -> Path:
    """Write the marts-only serving file and the restricted file from a build, then swap both."""
    if not build.exists():
        raise PublishError(f"{build}: no such warehouse file (did dbt build run?)")
    manifest = manifest or default_manifest()
    plan = plan_from_manifest(manifest)
    info = build_info(manifest)

    def fill_public(con: duckdb.DuckDBPyConnection) -> None:
        _copy_schema(con, PUBLIC_SCHEMA, plan.public, plan.required)
        columns = ", ".join(f'"{name}" varchar' for name in info)
        con.execute(f"create table main.build_info ({columns})")
        con.execute(
            f"insert into main.build_info values ({', '.join('?' for _ in info)})",
            list(info.values()),
        )

    def fill_restricted(con: duckdb.DuckDBPyConnection) -> None:
        _copy_schema(con, RESTRICTED_SCHEMA, plan.restricted, plan.restricted)

    public_tmp = _write_file(build, serving, fill_public)
    restricted = restricted_path(serving)
    restricted_tmp: Path | None = None
    try:
        check_serving(public_tmp, plan.required)
        if plan.restricted:
            restricted_tmp = _write_file(build, restricted, fill_restricted)
            _swap(restricted_tmp, restricted)
        _swap(public_tmp, serving)
    finally:
        public_tmp.unlink(missing_ok=True)
        if restricted_tmp is not None:
            restricted_tmp.unlink(missing_ok=True)
    return serving
