"""A local single-node Trino for the scale-out target and its tests.

Trino 476 comes from Maven Central (`trino-server-core` plus the Hive and Iceberg connector
plugins) and is downloaded and unpacked once under `.cache/trino/`. Each runtime directory
(default `var/trino/`) holds its own configuration, metastores, data and log, so tests can run
a private server next to a developer's. It runs on a JDK 24 or newer found on this machine.
Two catalogs are configured:

- `lake` (Iceberg, file metastore): where dbt builds staging, intermediate and marts.
- `hive` (Hive, file metastore): the raw lake as external Parquet tables, schema `raw`.

Both use Trino's native local file system rooted at `/`, so any absolute path can be a table
location (`local:///abs/path`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tarfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import trino

from access_analytics.paths import PROJECT_ROOT

TRINO_VERSION = "476"
MIN_JAVA_MAJOR = 24
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"
SERVER_ARTIFACT = f"io.trino:trino-server-core:{TRINO_VERSION}:tar.gz"
PLUGIN_ARTIFACTS = {
    "hive": f"io.trino:trino-hive:{TRINO_VERSION}:zip",
    "iceberg": f"io.trino:trino-iceberg:{TRINO_VERSION}:zip",
}
ICEBERG_CATALOG = "lake"
HIVE_CATALOG = "hive"


class TrinoError(RuntimeError):
    """Raised when Trino cannot be downloaded, configured, started or reached."""


@dataclass
class TrinoSettings:
    """Where and how the local Trino runs; every field has an environment override."""

    host: str = field(default_factory=lambda: os.environ.get("ACCESS_TRINO_HOST", "localhost"))
    port: int = field(default_factory=lambda: int(os.environ.get("ACCESS_TRINO_PORT", "8085")))
    user: str = field(
        default_factory=lambda: os.environ.get("ACCESS_TRINO_USER", "access_analytics")
    )
    heap: str = field(default_factory=lambda: os.environ.get("ACCESS_TRINO_HEAP", "3G"))
    cache_dir: Path = field(
        default_factory=lambda: Path(
            os.environ.get("ACCESS_TRINO_CACHE_DIR", PROJECT_ROOT / ".cache" / "trino")
        )
    )
    var_dir: Path = field(
        default_factory=lambda: Path(
            os.environ.get("ACCESS_TRINO_VAR_DIR", PROJECT_ROOT / "var" / "trino")
        )
    )
    startup_timeout_s: float = 240.0

    def __post_init__(self) -> None:
        self.cache_dir = self.cache_dir.resolve()
        self.var_dir = self.var_dir.resolve()

    @property
    def install_dir(self) -> Path:
        # Unpacked once next to the downloads and shared by every runtime directory.
        return self.cache_dir / f"trino-server-{TRINO_VERSION}"

    @property
    def etc_dir(self) -> Path:
        return self.var_dir / "etc"

    @property
    def data_dir(self) -> Path:
        return self.var_dir / "data"

    @property
    def warehouse_dir(self) -> Path:
        return self.var_dir / "warehouse"

    @property
    def pid_file(self) -> Path:
        return self.var_dir / "trino.pid"

    @property
    def log_file(self) -> Path:
        return self.var_dir / "server.log"


@dataclass
class StartResult:
    pid: int
    port: int
    startup_s: float
    heap: str
    java: Path
    already_running: bool = False


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
    local_fs = {"fs.native-local.enabled": "true", "local.location": "/"}
    (catalogs / f"{ICEBERG_CATALOG}.properties").write_text(
        _properties(
            {
                "connector.name": "iceberg",
                # Trino's Iceberg connector keeps its file-based catalog under this name; it
                # stands in for the Hive metastore / Glue / REST catalog of production.
                "iceberg.catalog.type": "testing_file_metastore",
                "hive.metastore.catalog.dir": _local_uri(settings.warehouse_dir / ICEBERG_CATALOG),
                "iceberg.file-format": "PARQUET",
                **local_fs,
            }
        )
    )
    (catalogs / f"{HIVE_CATALOG}.properties").write_text(
        _properties(
            {
                "connector.name": "hive",
                "hive.metastore": "file",
                "hive.metastore.catalog.dir": _local_uri(settings.warehouse_dir / HIVE_CATALOG),
                # The raw lake's Parquet timestamps are microseconds; keep all six digits.
                "hive.timestamp-precision": "MICROSECONDS",
                "hive.storage-format": "PARQUET",
                **local_fs,
            }
        )
    )


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


# --- process control ----------------------------------------------------------------------


def _read_pid(settings: TrinoSettings) -> int | None:
    try:
        pid = int(settings.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    # A recycled pid belongs to some other program: only trust a Trino java process.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid
    return pid if b"io.trino.server.TrinoServer" in cmdline else None


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def find_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def connect(settings: TrinoSettings | None = None, catalog: str | None = None, schema=None):
    settings = settings or TrinoSettings()
    return trino.dbapi.connect(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        catalog=catalog,
        schema=schema,
        http_scheme="http",
    )


def query(sql: str, settings: TrinoSettings | None = None) -> list[tuple]:
    """Run one statement and return all rows."""
    conn = connect(settings)
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        conn.close()


def is_ready(settings: TrinoSettings) -> bool:
    """True once Trino answers and has an active node with both catalogs loaded."""
    try:
        if query("select 1", settings) != [(1,)]:
            return False
        active = query("select count(*) from system.runtime.nodes where state = 'active'", settings)
        catalogs = {row[0] for row in query("show catalogs", settings)}
        return active[0][0] >= 1 and {ICEBERG_CATALOG, HIVE_CATALOG} <= catalogs
    except Exception:
        return False


# A one-row Iceberg table the startup writes and reads to prove the node runs table work.
PROBE_TABLE = f"{ICEBERG_CATALOG}.server_check.startup_probe"


def can_run_table_scans(settings: TrinoSettings) -> bool:
    """True once a table can be written and scanned.

    Trino answers metadata queries a few seconds before the node manager lists the node as
    serving the connectors; a table scan in that gap fails with NO_NODES_AVAILABLE.
    """
    try:
        query(f"create schema if not exists {PROBE_TABLE.rsplit('.', 1)[0]}", settings)
        query(f"create table if not exists {PROBE_TABLE} as select 1 as ok", settings)
        return query(f"select count(*) from {PROBE_TABLE}", settings) == [(1,)]
    except Exception:
        return False


def _log_tail(settings: TrinoSettings, lines: int = 25) -> str:
    try:
        text = settings.log_file.read_text(errors="replace").splitlines()
    except OSError:
        return "(no server log)"
    errors = [line for line in text if "ERROR" in line or "Exception" in line]
    return "\n".join((errors[-5:] if errors else []) + text[-lines:])


def start(settings: TrinoSettings | None = None, log=print) -> StartResult:
    """Start Trino (downloading and installing it if needed) and wait for `select 1`."""
    settings = settings or TrinoSettings()
    running = _read_pid(settings)
    if running is not None:
        if is_ready(settings):
            return StartResult(running, settings.port, 0.0, settings.heap, Path(), True)
        raise TrinoError(
            f"a Trino process (pid {running}) from {settings.var_dir} is running but does not "
            f"answer on port {settings.port}; run `access-analytics trino down` first."
        )
    if _port_in_use(settings.port):
        raise TrinoError(
            f"port {settings.port} is already in use; set ACCESS_TRINO_PORT to a free port."
        )
    java = find_java()
    install(settings, log=log)
    configure(settings)

    node = dict(
        line.split("=", 1)
        for line in (settings.etc_dir / "node.properties").read_text().splitlines()
        if "=" in line
    )
    command = [
        str(java),
        *jvm_options(settings),
        *(f"-D{key}={value}" for key, value in node.items()),
        f"-Dconfig={settings.etc_dir / 'config.properties'}",
        f"-Dlog.levels-file={settings.etc_dir / 'log.properties'}",
        "-cp",
        str(settings.install_dir / "lib" / "*"),
        "io.trino.server.TrinoServer",
    ]
    log(f"starting Trino {TRINO_VERSION} on port {settings.port} (java: {java}) ...")
    started = time.monotonic()
    with settings.log_file.open("wb") as server_log:
        process = subprocess.Popen(
            command,
            cwd=settings.install_dir,
            stdin=subprocess.DEVNULL,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    settings.pid_file.write_text(f"{process.pid}\n")
    deadline = started + settings.startup_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            settings.pid_file.unlink(missing_ok=True)
            raise TrinoError(
                f"Trino exited during startup (exit {process.returncode}); "
                f"log {settings.log_file}:\n{_log_tail(settings)}"
            )
        if is_ready(settings) and can_run_table_scans(settings):
            return StartResult(
                process.pid, settings.port, time.monotonic() - started, settings.heap, java
            )
        time.sleep(1.0)
    stop(settings, log=log)
    raise TrinoError(
        f"Trino did not answer `select 1` within {settings.startup_timeout_s:.0f} s; "
        f"log {settings.log_file}:\n{_log_tail(settings)}"
    )


def stop(settings: TrinoSettings | None = None, timeout_s: float = 30.0, log=print) -> bool:
    """Stop Trino: SIGTERM (graceful), then SIGKILL after timeout_s. True if one was running."""
    settings = settings or TrinoSettings()
    pid = _read_pid(settings)
    if pid is None:
        settings.pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.25)
    else:
        log(f"Trino (pid {pid}) did not stop within {timeout_s:.0f} s; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.1)
    settings.pid_file.unlink(missing_ok=True)
    return True


def _alive(pid: int) -> bool:
    # Reap the child if this process started it, so it does not linger as a zombie.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = ""
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]
    return state != "Z"


@dataclass
class Status:
    running: bool
    ready: bool
    pid: int | None
    port: int
    version: str | None = None
    heap_max_bytes: int | None = None
    rss_bytes: int | None = None


def status(settings: TrinoSettings | None = None) -> Status:
    settings = settings or TrinoSettings()
    pid = _read_pid(settings)
    if pid is None:
        return Status(False, False, None, settings.port)
    try:
        version = query("select node_version from system.runtime.nodes", settings)[0][0]
    except Exception:
        return Status(True, False, pid, settings.port, rss_bytes=rss_bytes(pid))
    return Status(True, True, pid, settings.port, version, heap_max_bytes(pid), rss_bytes(pid))


def rss_bytes(pid: int) -> int | None:
    """Resident memory of the process, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def heap_max_bytes(pid: int) -> int | None:
    """The JVM's max heap, read from its command line (-Xmx)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    for arg in args:
        match = re.fullmatch(rb"-Xmx(\d+)([kKmMgG]?)", arg)
        if match:
            unit = match.group(2).decode().lower()
            return int(match.group(1)) * units.get(unit, 1)
    return None
