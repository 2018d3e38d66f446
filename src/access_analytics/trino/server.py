"""Run a local single-node Trino for the scale-out target and its tests: start, stop, status.

Installing it (download, unpack, configure) is `install.py`; where it runs is
`settings.py`. Each runtime directory
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
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import trino

from access_analytics import local_servers
from access_analytics.trino.install import configure, find_java, install, jvm_options
from access_analytics.trino.settings import (
    HIVE_CATALOG,
    ICEBERG_CATALOG,
    MIN_JAVA_MAJOR,
    TRINO_VERSION,
    TrinoError,
    TrinoSettings,
)

__all__ = [
    "HIVE_CATALOG",
    "ICEBERG_CATALOG",
    "MIN_JAVA_MAJOR",
    "TRINO_VERSION",
    "TrinoError",
    "TrinoSettings",
    "configure",
    "find_java",
    "install",
    "jvm_options",
]


@dataclass
class StartResult:
    pid: int
    port: int
    startup_s: float
    heap: str
    java: Path
    already_running: bool = False


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
        _replace_orphan(settings, log)
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


def _replace_orphan(settings: TrinoSettings, log) -> None:
    """The port is taken: stop the Trino of this runtime directory holding it (its pid file
    was removed with var/), or refuse when the listener is anything else."""
    orphans = local_servers.orphan_on_port(settings.port, "Trino", settings.var_dir)
    if not orphans:
        raise TrinoError(
            f"port {settings.port} is already in use; set ACCESS_TRINO_PORT to a free port."
        )
    log(
        f"replacing {local_servers.describe(orphans)} left running on port {settings.port} "
        f"without its pid file (runtime directory {settings.var_dir})"
    )
    try:
        local_servers.stop(orphans)
    except local_servers.StopError as error:
        raise TrinoError(f"cannot stop the old Trino on port {settings.port}: {error}") from error
    deadline = time.monotonic() + 10
    while _port_in_use(settings.port) and time.monotonic() < deadline:
        time.sleep(0.2)


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
