"""Install the local Trino: download it from Maven Central, unpack it, configure it.

Trino 476 comes from Maven Central (`trino-server-core` plus the Hive and Iceberg connector
plugins) and is downloaded and unpacked once under `.cache/trino/`; each runtime directory
gets its own configuration, and the server runs on a JDK 24 or newer found on this machine.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tarfile
import time
import zipfile
from pathlib import Path

from access_analytics.trino.settings import (
    HIVE_CATALOG,
    ICEBERG_CATALOG,
    MAVEN_DEPENDENCY_PLUGIN,
    MIN_JAVA_MAJOR,
    PLUGIN_ARTIFACTS,
    SERVER_ARTIFACT,
    TRINO_VERSION,
    TrinoError,
    TrinoSettings,
)

# --- download -------------------------------------------------------------------------------


def _artifact_file_name(artifact: str) -> str:
    _group, name, version, packaging = artifact.split(":")
    return f"{name}-{version}.{packaging}"


def download(settings: TrinoSettings, log=print) -> dict[str, Path]:
    """Fetch the server tarball and plugin zips with Maven unless already cached."""
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    artifacts = {"server": SERVER_ARTIFACT, **PLUGIN_ARTIFACTS}
    files: dict[str, Path] = {}
    for key, artifact in artifacts.items():
        target = settings.cache_dir / _artifact_file_name(artifact)
        files[key] = target
        if target.is_file() and target.stat().st_size > 0:
            continue
        mvn = shutil.which("mvn")
        if mvn is None:
            raise TrinoError("Maven (mvn) is not on PATH; it is needed to download Trino.")
        log(f"downloading {artifact} from Maven Central ...")
        started = time.monotonic()
        command = [
            mvn,
            "--batch-mode",
            "--quiet",
            f"{MAVEN_DEPENDENCY_PLUGIN}:copy",
            f"-Dartifact={artifact}",
            f"-DoutputDirectory={settings.cache_dir}",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not target.is_file():
            tail = (result.stdout + result.stderr).strip().splitlines()[-15:]
            raise TrinoError(
                f"downloading {artifact} failed (mvn exit {result.returncode}):\n" + "\n".join(tail)
            )
        size_mb = target.stat().st_size / 1e6
        log(f"  {target.name}: {size_mb:.0f} MB in {time.monotonic() - started:.0f} s")
    return files


# --- install and configure --------------------------------------------------------------


def install(settings: TrinoSettings, log=print) -> Path:
    """Unpack the server and the plugins into the runtime directory (once)."""
    files = download(settings, log=log)
    install_dir = settings.install_dir
    marker = install_dir / ".installed"
    if marker.is_file():
        return install_dir
    if install_dir.exists():
        shutil.rmtree(install_dir)
    log(f"unpacking Trino {TRINO_VERSION} into {install_dir} ...")
    staging = settings.cache_dir / f"unpack-{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    with tarfile.open(files["server"]) as archive:
        archive.extractall(staging, filter="tar")
    (staging / f"trino-server-core-{TRINO_VERSION}").rename(install_dir)
    for plugin in PLUGIN_ARTIFACTS:
        with zipfile.ZipFile(files[plugin]) as archive:
            archive.extractall(staging)
        (staging / f"trino-{plugin}-{TRINO_VERSION}").rename(install_dir / "plugin" / plugin)
    shutil.rmtree(staging)
    marker.write_text(f"{TRINO_VERSION}\n")
    return install_dir


def _properties(values: dict[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


def _local_uri(path: Path) -> str:
    return f"local://{path.resolve()}"


def jvm_options(settings: TrinoSettings) -> list[str]:
    return [
        "-server",
        f"-Xmx{settings.heap}",
        "-XX:+UseG1GC",
        "-XX:G1HeapRegionSize=32M",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-XX:+ExitOnOutOfMemoryError",
        "-XX:-OmitStackTraceInFastThrow",
        "-XX:ReservedCodeCacheSize=256M",
        "-XX:PerMethodRecompilationCutoff=10000",
        "-XX:PerBytecodeRecompilationCutoff=10000",
        "-XX:+EnableDynamicAgentLoading",
        "-Djdk.attach.allowAttachSelf=true",
        "-Djdk.nio.maxCachedBufferSize=2000000",
        "-Dfile.encoding=UTF-8",
        # The machine is shared: keep the JVM's own thread pools small.
        "-XX:ActiveProcessorCount=2",
    ]


def configure(settings: TrinoSettings) -> None:
    """Write etc/ for a single-node coordinator that also runs the work."""
    etc = settings.etc_dir
    catalogs = etc / "catalog"
    shutil.rmtree(catalogs, ignore_errors=True)
    catalogs.mkdir(parents=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for catalog in (ICEBERG_CATALOG, HIVE_CATALOG):
        (settings.warehouse_dir / catalog).mkdir(parents=True, exist_ok=True)

    (etc / "node.properties").write_text(
        _properties(
            {
                "node.environment": "local",
                "node.id": "access-analytics-local",
                "node.data-dir": str(settings.data_dir),
            }
        )
    )
    (etc / "jvm.config").write_text("\n".join(jvm_options(settings)) + "\n")
    (etc / "config.properties").write_text(
        _properties(
            {
                "coordinator": "true",
                "node-scheduler.include-coordinator": "true",
                "http-server.http.port": str(settings.port),
                "discovery.uri": f"http://127.0.0.1:{settings.port}",
                "catalog.config-dir": str(catalogs),
                "plugin.dir": str(settings.install_dir / "plugin"),
                "query.max-memory": "1GB",
                "query.max-memory-per-node": "1GB",
                "task.concurrency": "2",
                "task.max-worker-threads": "4",
                # dbt unit tests inline their fixture rows as CTEs that Trino plans once per
                # reference; dim_fob_health's test needs ~230 stages (the default cap is 150).
                "query.max-stage-count": "400",
            }
        )
    )
    (etc / "log.properties").write_text("io.trino=INFO\n")
    _write_catalog(
        settings,
        ICEBERG_CATALOG,
        {
            "connector.name": "iceberg",
            # Trino's Iceberg connector keeps its file-based catalog under this name; it
            # stands in for the Hive metastore / Glue / REST catalog of production.
            "iceberg.catalog.type": "testing_file_metastore",
            "iceberg.file-format": "PARQUET",
        },
    )
    _write_catalog(
        settings,
        HIVE_CATALOG,
        {
            "connector.name": "hive",
            "hive.metastore": "file",
            # The raw lake's Parquet timestamps are microseconds; keep all six digits.
            "hive.timestamp-precision": "MICROSECONDS",
            "hive.storage-format": "PARQUET",
        },
    )


def _write_catalog(settings: TrinoSettings, name: str, connector: dict[str, str]) -> None:
    """A catalog whose file metastore lives in the runtime's warehouse folder, on Trino's
    native local file system rooted at `/`."""
    properties = {
        **connector,
        "hive.metastore.catalog.dir": _local_uri(settings.warehouse_dir / name),
        "fs.native-local.enabled": "true",
        "local.location": "/",
    }
    (settings.etc_dir / "catalog" / f"{name}.properties").write_text(_properties(properties))


# --- java -------------------------------------------------------------------------------


def _java_major(java: Path) -> int | None:
    try:
        result = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'version "(\d+)', result.stderr + result.stdout)
    return int(match.group(1)) if match else None


def find_java() -> Path:
    """A `java` of version 24 or newer: JAVA_HOME first, then the usual JVM folders."""
    candidates: list[Path] = []
    for variable in ("ACCESS_TRINO_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(variable):
            candidates.append(Path(os.environ[variable]) / "bin" / "java")
    for pattern in ("/usr/lib/jvm/*", "/opt/java/*", "/opt/*jdk*"):
        for home in sorted(glob.glob(pattern), reverse=True):
            candidates.append(Path(home) / "bin" / "java")
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path))
    seen: set[Path] = set()
    for java in candidates:
        real = java.resolve()
        if real in seen or not real.is_file():
            continue
        seen.add(real)
        major = _java_major(real)
        if major is not None and major >= MIN_JAVA_MAJOR:
            return real
    raise TrinoError(
        f"Trino {TRINO_VERSION} needs Java {MIN_JAVA_MAJOR} or newer; none found in "
        "ACCESS_TRINO_JAVA_HOME, JAVA_HOME, /usr/lib/jvm or PATH."
    )
