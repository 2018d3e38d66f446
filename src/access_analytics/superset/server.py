"""Start and stop a local Superset (gunicorn) for the demo, `make serve` and tests."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from access_analytics import local_servers
from access_analytics.superset import settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _superset_bin() -> str:
    return str(Path(sys.executable).with_name("superset"))


def _gunicorn_bin() -> str:
    return str(Path(sys.executable).with_name("gunicorn"))


def init_metadata(env: dict[str, str]) -> None:
    """Create or upgrade the metadata DB and Superset's built-in roles (idempotent).

    A marker in the var folder records the Superset version and metadata DB it was
    done for, so a restart on the same setup skips the slow no-op migration run.
    The admin user is set separately (`security.set_admin_password`).
    """
    from importlib.metadata import version

    marker = Path(env["SUPERSET_VAR_DIR"]) / ".metadata-initialized"
    uri = env.get("SUPERSET_DATABASE_URI", "")
    stamp = f"{version('apache-superset')} {uri}"
    sqlite_file = Path(uri[len("sqlite:///") :]) if uri.startswith("sqlite:///") else None
    sqlite_missing = sqlite_file is not None and not sqlite_file.exists()
    if not (marker.exists() and marker.read_text() == stamp and not sqlite_missing):
        superset = _superset_bin()
        for step in ([superset, "db", "upgrade"], [superset, "init"]):
            result = subprocess.run(step, env=env, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                last = (result.stderr.strip().splitlines() or ["no output"])[-1]
                raise StartError(f"`superset {step[1]}` failed: {last}")
        marker.write_text(stamp)
    if sqlite_file is not None and sqlite_file.exists():
        # Password hashes: readable by the owner only.
        sqlite_file.chmod(0o600)


class StartError(RuntimeError):
    """Superset could not be started; the message is one line for the user."""


@dataclass
class SupersetServer:
    """A gunicorn-served Superset bound to 127.0.0.1 (or `host`)."""

    env: dict[str, str]
    port: int
    host: str = "127.0.0.1"
    workers: int = 2
    log_path: Path | None = None
    # Where a replaced orphan is reported (one line).
    say: Callable[[str], object] = print
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    redis: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        local = self.host in {"127.0.0.1", "0.0.0.0"}
        return f"http://{'localhost' if local else self.host}:{self.port}"

    @property
    def group(self) -> int:
        """The process group holding gunicorn and its redis-server: one signal stops both."""
        leader = self.redis or self.process
        assert leader is not None
        return leader.pid

    def _start_redis(self, log: Any) -> None:
        """A private redis-server on a socket in the var folder, for the login-failure counters.

        Every gunicorn worker must see the same counters, else each would allow its own
        share of guesses. Without redis-server, gunicorn runs a single worker.
        """
        executable = shutil.which("redis-server")
        if executable is None:
            self.workers = 1
            return
        socket_path = Path(self.env["SUPERSET_VAR_DIR"]) / f"redis-{self.port}.sock"
        socket_path.unlink(missing_ok=True)
        self.redis = subprocess.Popen(
            [
                executable,
                "--port",
                "0",
                "--unixsocket",
                str(socket_path),
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, which gunicorn joins (a group cannot span sessions).
            process_group=0,
        )
        for _ in range(100):
            if socket_path.exists():
                break
            if self.redis.poll() is not None:
                raise StartError(f"redis-server exited with code {self.redis.returncode}")
            time.sleep(0.05)
        else:
            self.stop()
            raise StartError("redis-server did not open its socket")
        self.env = {**self.env, "SUPERSET_RATELIMIT_STORAGE_URI": f"redis+unix://{socket_path}"}

    def _port_in_use(self) -> bool:
        address = "127.0.0.1" if self.host in {"0.0.0.0", "localhost"} else self.host
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            return sock.connect_ex((address, self.port)) == 0

    def _replace_orphan(self) -> None:
        """The port is taken: stop this var folder's Superset holding it (its pid file was
        removed with var/) with its redis-server, or refuse when it is anything else."""
        var_dir = self.env["SUPERSET_VAR_DIR"]
        orphans = local_servers.orphan_on_port(self.port, "Superset", var_dir)
        if not orphans:
            raise StartError(f"port {self.port} is already in use; choose another with --port")
        self.say(
            f"replacing {local_servers.describe(orphans)} left running on port {self.port} "
            f"without its pid file (var folder {var_dir})"
        )
        try:
            local_servers.stop(orphans, timeout_s=20)
        except local_servers.StopError as error:
            raise StartError(
                f"cannot stop the old Superset on port {self.port}: {error}"
            ) from error
        deadline = time.monotonic() + 10
        while self._port_in_use() and time.monotonic() < deadline:
            time.sleep(0.2)

    def start(self, timeout_s: float = 300.0) -> None:
        if self._port_in_use():
            self._replace_orphan()
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._start_redis(log)
        try:
            self.process = self._start_gunicorn(log)
        except OSError:
            self.stop()
            raise
        self.wait_healthy(timeout_s)

    def _start_gunicorn(self, log: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                _gunicorn_bin(),
                "--bind",
                f"{self.host}:{self.port}",
                "--workers",
                str(self.workers),
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                # Dashboards fire one request per chart; slow queries fail at the
                # Superset timeout, not at a shorter gunicorn one.
                "--timeout",
                "120",
                "--limit-request-line",
                "0",
                "--limit-request-field_size",
                "0",
                "superset.app:create_app()",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # In redis-server's group when there is one, so that one signal stops both.
            start_new_session=self.redis is None,
            process_group=None if self.redis is None else self.redis.pid,
        )

    def wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                code = self.process.returncode
                self.stop()
                raise StartError(f"Superset exited with code {code}; see {self.log_path}")
            try:
                if requests.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        raise StartError(f"Superset did not become healthy in {timeout_s:.0f}s")

    def stop(self) -> None:
        running = [p for p in (self.process, self.redis) if p is not None and p.poll() is None]
        if not running:
            return
        try:
            os.killpg(self.group, signal.SIGTERM)
        except ProcessLookupError:
            return
        for process in running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.group, signal.SIGKILL)
                process.wait()


@contextmanager
def private_superset(
    workdir: Path, admin_password: str, say: Callable[[str], object] = print
) -> Iterator[SupersetServer]:
    """A throwaway Superset for a test session or a benchmark, all of it under `workdir`:
    its own metadata DB (never var/superset's), secret key and free port, with the
    admin's password set. Stopped when the block ends, also on failure."""
    from access_analytics.superset.security import set_admin_password

    env = settings.superset_env(workdir, secret_key=secrets.token_urlsafe(48))
    env["SUPERSET_DATABASE_URI"] = f"sqlite:///{workdir / 'superset.db'}"
    init_metadata(env)
    set_admin_password(env, admin_password)
    server = SupersetServer(env=env, port=free_port(), log_path=workdir / "superset.log", say=say)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def pid_file() -> Path:
    return settings.var_dir() / "gunicorn.pid"


def stop_recorded_server() -> bool:
    """Stop the server `serve` started earlier (by its recorded process group)."""
    path = pid_file()
    if not path.exists():
        return False
    pid = int(path.read_text().strip())
    path.unlink()
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    for _ in range(40):
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.5)
    os.killpg(pid, signal.SIGKILL)
    return True


MIN_SECRET_LENGTH = 32
MIN_PASSWORD_LENGTH = 12
WEAK_PASSWORDS = {"admin", "password", "superset", "changeme"}


def admin_password_file() -> Path:
    return settings.var_dir() / "admin_password"


def demo_admin_password() -> tuple[str, bool]:
    """The demo admin's random password, made once into an owner-only file; (password, new)."""
    path = admin_password_file()
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password)
    return password, True


def admin_password(demo: bool) -> tuple[str, bool]:
    """SUPERSET_ADMIN_PASSWORD when set (set or rotated on every start), else the demo's."""
    given = os.environ.get("SUPERSET_ADMIN_PASSWORD")
    if given:
        if given.lower() in WEAK_PASSWORDS or len(given) < MIN_PASSWORD_LENGTH:
            raise StartError(
                f"SUPERSET_ADMIN_PASSWORD is too weak (at least {MIN_PASSWORD_LENGTH} characters)"
            )
        return given, False
    if not demo:
        raise StartError("set SUPERSET_ADMIN_PASSWORD (outside the demo there is no default)")
    return demo_admin_password()


def check_secret_key(demo: bool) -> None:
    """Outside the demo the key must come from the environment and be long and random."""
    key = os.environ.get("SUPERSET_SECRET_KEY", "")
    if key and len(key) < MIN_SECRET_LENGTH:
        raise StartError(f"SUPERSET_SECRET_KEY is too short (at least {MIN_SECRET_LENGTH} chars)")
    if not key and not demo:
        raise StartError("set SUPERSET_SECRET_KEY (outside the demo there is no generated key)")


@dataclass
class Served:
    server: SupersetServer
    password: str
    new_password: bool


def serve_dashboards(
    port: int = 8088,
    host: str = "127.0.0.1",
    directory: Path | None = None,
    step: Callable[[str], AbstractContextManager[object]] | None = None,
    demo: bool = False,
) -> Served:
    """Restart the local Superset on the published warehouse, dashboards and roles applied.

    The server keeps running after this returns (its process group id is recorded in
    var/ so the next call, or `access-analytics serve --stop`, stops it; one left running
    after var/ was removed is recognised on its port and replaced). Any failure
    stops what was started and raises StartError or PublishError with one line.
    """
    from access_analytics.superset.client import SupersetClient
    from access_analytics.superset.operations import import_dashboards
    from access_analytics.superset.security import (
        ADMIN_USER,
        apply_security,
        set_admin_password,
    )
    from access_analytics.warehouse import build_path, check_serving, publish, serving_path

    stage = step or (lambda _title: nullcontext())
    check_secret_key(demo)
    password, new_password = admin_password(demo)
    serving = serving_path()
    if not serving.exists():
        # First start after a build: publish it (refused while dbt still holds the file).
        publish(build_path(), serving)
    check_serving(serving, [])
    stop_recorded_server()
    env = settings.superset_env()
    server = SupersetServer(
        env=env, port=port, host=host, log_path=settings.var_dir() / "superset.log"
    )
    try:
        with stage("Preparing Superset's metadata DB and the admin"):
            init_metadata(env)
            set_admin_password(env, password)
        with stage(f"Starting Superset on port {port}"):
            server.start()
        pid_file().write_text(str(server.group))
        with stage("Importing the dashboards"):
            import_dashboards(
                SupersetClient(server.url, ADMIN_USER, password),
                directory or settings.DASHBOARDS_DIR,
                settings.warehouse_uri(),
            )
        with stage("Applying roles and row-level security (security/roles.yml)"):
            apply_security(env, serving)
    except BaseException as exc:
        # Whatever failed (or Ctrl-C), nothing we started keeps running.
        server.stop()
        pid_file().unlink(missing_ok=True)
        if not isinstance(exc, Exception):
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StartError(f"Superset not started: {message}") from exc
    return Served(server, password, new_password)
