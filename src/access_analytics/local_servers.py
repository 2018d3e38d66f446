"""The servers this checkout starts (Trino; Superset's gunicorn and its redis-server), found
by what ties each process to its state directory, and stopped before that directory goes.

A pid file under the state directory (default `var/`) names the server a command started.
When the directory is removed while the server runs, the pid file is gone but the process
still holds its port. These helpers recognise such a process from /proc, never by name alone:

- Trino: a `io.trino.server.TrinoServer` JVM whose `-Dconfig=` file lies in the state
  directory (`<var>/trino/etc/config.properties`);
- Superset: a gunicorn serving `superset.app:create_app()` whose environment has this
  checkout's `SUPERSET_CONFIG_PATH` and a `SUPERSET_VAR_DIR` in the state directory;
- its redis-server: a redis-server holding a unix socket in the state directory;
- Airflow (`make airflow-up`): a process of this checkout's `orchestration/.venv/bin/airflow`
  whose AIRFLOW_HOME lies in the state directory. Airflow's API server retitles itself
  ("airflow api_server -- host:... port:..."), which overwrites its command line and
  environment in /proc; it is recognised by the Airflow environment's files mapped in its
  memory, and its home by its output file, `<AIRFLOW_HOME>/logs/<process>.log`.

Anything else (another checkout's server, a foreign program on the port) is never
recognised and so never stopped. Off Linux (no /proc) nothing is recognised.

`python -m access_analytics.local_servers stop DIR...` (run by `make clean`) stops every
such server whose state lies in one of the directories, or exits 1 with one line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from access_analytics.paths import PROJECT_ROOT

PROC = Path("/proc")
SUPERSET_CONFIG = PROJECT_ROOT / "superset_config.py"
TRINO_MAIN = "io.trino.server.TrinoServer"
AIRFLOW = PROJECT_ROOT / "orchestration" / ".venv" / "bin" / "airflow"
SUPERSET_APP = "superset.app:create_app()"


class StopError(RuntimeError):
    """A server of this checkout could not be stopped; the message is one line."""


@dataclass(frozen=True)
class Process:
    pid: int
    kind: str  # "Trino", "Superset", "redis-server" or "Airflow"
    state_dir: Path  # what ties it to this checkout
    pgid: int


# --- /proc ---------------------------------------------------------------------------------


def _real(path: str | Path) -> Path:
    return Path(os.path.realpath(path))


def _within(path: str | Path, directory: str | Path) -> bool:
    return _real(path).is_relative_to(_real(directory))


def _argv(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return {}
    pairs = (part.decode(errors="replace").split("=", 1) for part in raw.split(b"\0"))
    return dict(pair for pair in pairs if len(pair) == 2)


def _pgid(pid: int) -> int | None:
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return None
    # state ppid pgrp ...; a zombie is already stopped.
    return None if fields[0] in {"Z", "X"} else int(fields[2])


def _pids() -> list[int]:
    try:
        names = os.listdir(PROC)
    except OSError:
        return []
    # Never this process or the commands that started it (make, the shell).
    own = _ancestors()
    return [int(name) for name in names if name.isdigit() and int(name) not in own]


def _ancestors() -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            fields = (PROC / str(pid) / "stat").read_text().rsplit(") ", 1)[1].split()
            pid = int(fields[1])
        except (OSError, IndexError, ValueError):
            break
    return pids


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(PROC / str(pid) / "fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(PROC / str(pid) / "fd" / fd)
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
    return inodes


def _listening_inodes(port: int) -> set[int]:
    """Inodes of TCP sockets listening on `port`, any address (IPv4 and IPv6)."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (PROC / "net" / table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(int(fields[9]))
    return inodes


def listening_pids(port: int) -> set[int]:
    """Pids of the processes holding a TCP socket that listens on `port` (any address)."""
    inodes = _listening_inodes(port)
    if not inodes:
        return set()
    return {pid for pid in _pids() if _socket_inodes(pid) & inodes}


def _unix_socket_paths() -> dict[int, str]:
    """Inode -> bound path of every unix socket (kept after the file is removed)."""
    paths = {}
    with contextlib.suppress(OSError):
        for line in (PROC / "net" / "unix").read_text().splitlines()[1:]:
            fields = line.split(maxsplit=7)
            if len(fields) == 8 and fields[7].startswith("/"):
                paths[int(fields[6])] = fields[7]
    return paths


# --- recognition -----------------------------------------------------------------------------


def _identify(pid: int, unix_paths: dict[int, str]) -> Process | None:
    """The server of this checkout that `pid` is, with its state directory; else None."""
    argv = _argv(pid)
    if not argv:
        return None
    pgid = _pgid(pid)
    if pgid is None:
        return None
    if TRINO_MAIN in argv:
        for arg in argv:
            if arg.startswith("-Dconfig="):
                # <var>/etc/config.properties
                return Process(pid, "Trino", _real(arg[len("-Dconfig=") :]).parent.parent, pgid)
        return None
    if any(arg.endswith("/airflow") and _real(arg) == _real(AIRFLOW) for arg in argv[:2]):
        home = _environ(pid).get("AIRFLOW_HOME")
        return Process(pid, "Airflow", _real(home), pgid) if home else None
    if argv[0].startswith("airflow ") and _maps_airflow_environment(pid):
        home = _airflow_home_from_output(pid)
        return Process(pid, "Airflow", home, pgid) if home else None
    if SUPERSET_APP in argv:
        env = _environ(pid)
        config, var_dir = env.get("SUPERSET_CONFIG_PATH"), env.get("SUPERSET_VAR_DIR")
        if config and var_dir and _real(config) == _real(SUPERSET_CONFIG):
            return Process(pid, "Superset", _real(var_dir), pgid)
        return None
    if Path(argv[0].split()[0]).name == "redis-server":
        for inode in _socket_inodes(pid):
            path = unix_paths.get(inode)
            if path and Path(path).name.startswith("redis-"):
                return Process(pid, "redis-server", _real(path).parent, pgid)
    return None


def _maps_airflow_environment(pid: int) -> bool:
    """Whether the process has files of this checkout's Airflow environment mapped."""
    environment = f"{_real(AIRFLOW.parent.parent)}/"
    try:
        with open(f"/proc/{pid}/maps") as maps:
            return any(environment in line for line in maps)
    except OSError:
        return False


def _airflow_home_from_output(pid: int) -> Path | None:
    """`<home>` when the process writes to `<home>/logs/<process>.log`, as `up` starts it."""
    try:
        output = Path(os.readlink(f"/proc/{pid}/fd/1"))
    except OSError:
        return None
    if output.parent.name != "logs" or output.suffix != ".log":
        return None
    return _real(output.parent.parent)


def servers_in(
    directories: Iterable[str | Path], kinds: Iterable[str] | None = None
) -> list[Process]:
    """This checkout's servers whose state lies in one of `directories`."""
    directories = [_real(directory) for directory in directories]
    wanted = set(kinds) if kinds is not None else None
    unix_paths = _unix_socket_paths()
    found = []
    for pid in _pids():
        process = _identify(pid, unix_paths)
        if process is None or (wanted is not None and process.kind not in wanted):
            continue
        if any(_within(process.state_dir, directory) for directory in directories):
            found.append(process)
    return found


def orphan_on_port(port: int, kind: str, state_dir: str | Path) -> list[Process]:
    """The server of `kind` with state in `state_dir` listening on `port`, with the processes
    of its process group that belong to it too (gunicorn's workers and redis-server).

    Empty when nothing listens there or the listener is not this checkout's: the caller
    then reports the port as in use and leaves it alone.
    """
    listening = listening_pids(port)
    if not listening:
        return []
    state_dir = _real(state_dir)
    unix_paths = _unix_socket_paths()
    listeners = []
    others: list[Process] = []
    for pid in _pids():
        process = _identify(pid, unix_paths)
        if process is None or process.state_dir != state_dir:
            continue
        if process.kind == kind and pid in listening:
            listeners.append(process)
        else:
            others.append(process)
    groups = {process.pgid for process in listeners}
    return listeners + [process for process in others if process.pgid in groups]


# --- stopping --------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    # Reap our own child, so that it does not linger as a zombie.
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    return _pgid(pid) is not None


def group_members(pgid: int) -> list[int]:
    """The live processes (not zombies) of a process group."""
    members = []
    for pid in _pids():
        try:
            fields = (PROC / str(pid) / "stat").read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in {"Z", "X"}:
            members.append(pid)
    return members


def stop(processes: Iterable[Process], timeout_s: float = 30.0, groups: bool = False) -> None:
    """SIGTERM each process, SIGKILL what is left after timeout_s; StopError if one stays.

    With `groups`, each signal goes to the processes' whole process groups, and what is
    left in those groups once the processes are gone is killed: a server's workers that
    carry no mark of their own (Airflow's task processes) end with it."""
    processes = list(processes)
    pids = [process.pid for process in processes]
    own_group = os.getpgrp()
    targets = sorted({p.pgid for p in processes if p.pgid != own_group}) if groups else pids
    send = os.killpg if groups else os.kill

    def signal_all(signum: int) -> None:
        for target in targets:
            try:
                send(target, signum)
            except ProcessLookupError:
                pass
            except PermissionError as error:
                raise StopError(f"cannot stop process {target}: {error.strerror}") from error

    signal_all(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    if groups or any(_alive(pid) for pid in pids):
        signal_all(signal.SIGKILL)

    def survivors() -> list[int]:
        members = [member for group in targets for member in group_members(group)]
        return [pid for pid in pids if _alive(pid)] + (members if groups else [])

    # A killed process lingers until the kernel has torn it down.
    deadline = time.monotonic() + 10
    while survivors() and time.monotonic() < deadline:
        time.sleep(0.1)
    if left := survivors():
        raise StopError(f"process(es) {', '.join(map(str, left))} did not stop")


def describe(processes: list[Process]) -> str:
    """'Trino (pid 12) and Superset (pids 34, 35, 36)'"""
    kinds: dict[str, list[int]] = {}
    for process in processes:
        kind = "Superset" if process.kind == "redis-server" else process.kind
        kinds.setdefault(kind, []).append(process.pid)
    parts = [
        f"{kind} (pid{'s' if len(pids) > 1 else ''} {', '.join(map(str, sorted(pids)))})"
        for kind, pids in kinds.items()
    ]
    return " and ".join(parts)


def stop_servers_in(directories: Iterable[str | Path], log=print) -> list[Process]:
    """Stop every server of this checkout whose state lies in one of `directories`
    (what `make clean` removes). Raises StopError with one line when one does not stop."""
    directories = list(directories)
    found = servers_in(directories)
    if not found:
        return []
    try:
        stop(found)
        left = servers_in(directories)  # e.g. a worker gunicorn started meanwhile
        if left:
            stop(left)
            found += left
    except StopError as error:
        raise StopError(f"cannot stop {describe(found)}: {error}") from error
    log(f"stopped {describe(found)}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "stop":
        print("usage: python -m access_analytics.local_servers stop DIR...", file=sys.stderr)
        return 2
    try:
        stop_servers_in(argv[1:])
    except StopError as error:
        print(f"error: {error}; nothing removed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
