"""Start and stop a local Superset (gunicorn) for the demo, `make serve` and tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import requests

from access_analytics.superset import settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _superset_bin() -> str:
    return str(Path(sys.executable).with_name("superset"))


def _gunicorn_bin() -> str:
    return str(Path(sys.executable).with_name("gunicorn"))


def init_metadata(env: dict[str, str], username: str, password: str) -> None:
    """Create or upgrade the metadata DB, the roles and the admin user (idempotent).

    A marker in the var folder records the Superset version and metadata DB it was
    done for, so a restart on the same setup skips the slow no-op migration run.
    """
    from importlib.metadata import version

    marker = Path(env["SUPERSET_VAR_DIR"]) / ".metadata-initialized"
    stamp = f"{version('apache-superset')} {env.get('SUPERSET_DATABASE_URI', '')} {username}"
    uri = env.get("SUPERSET_DATABASE_URI", "")
    sqlite_missing = uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///") :]).exists()
    if marker.exists() and marker.read_text() == stamp and not sqlite_missing:
        return
    superset = _superset_bin()
    steps = [
        [superset, "db", "upgrade"],
        [
            superset,
            "fab",
            "create-admin",
            "--username",
            username,
            "--password",
            password,
            "--firstname",
            "Access",
            "--lastname",
            "Admin",
            "--email",
            f"{username}@access-analytics.local",
        ],
        [superset, "init"],
    ]
    for step in steps:
        result = subprocess.run(step, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"`{' '.join(step[1:3])}` failed:\n{result.stdout[-2000:]}{result.stderr[-4000:]}"
            )
    marker.write_text(stamp)


@dataclass
class SupersetServer:
    """A gunicorn-served Superset bound to 127.0.0.1 (or `host`)."""

    env: dict[str, str]
    port: int
    host: str = "127.0.0.1"
    workers: int = 2
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        local = self.host in {"127.0.0.1", "0.0.0.0"}
        return f"http://{'localhost' if local else self.host}:{self.port}"

    def start(self, timeout_s: float = 300.0) -> None:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
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
            start_new_session=True,
        )
        self.wait_healthy(timeout_s)

    def wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"Superset exited with code {self.process.returncode}; see {self.log_path}"
                )
            try:
                if requests.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Superset did not become healthy in {timeout_s:.0f}s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


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


def serve_dashboards(
    port: int = 8088,
    host: str = "127.0.0.1",
    directory: Path | None = None,
    step: Callable[[str], AbstractContextManager[object]] | None = None,
) -> SupersetServer:
    """Restart the local Superset on the published warehouse, with the dashboards imported.

    The server keeps running after this returns (its process group id is recorded in
    var/ so the next call, or `access-analytics serve --stop`, stops it). `step`
    wraps each stage, e.g. in a progress display.
    """
    from access_analytics.superset.client import SupersetClient
    from access_analytics.superset.operations import import_dashboards
    from access_analytics.warehouse import build_path, check_serving, publish, serving_path

    stage = step or (lambda _title: nullcontext())
    serving = serving_path()
    if not serving.exists():
        # First start after a build: publish it (refused while dbt still holds the file).
        publish(build_path(), serving)
    check_serving(serving, [])
    stop_recorded_server()
    env = settings.superset_env()
    password = admin_password()
    with stage("Preparing Superset's metadata DB"):
        init_metadata(env, settings.DEMO_ADMIN_USER, password)
    server = SupersetServer(
        env=env, port=port, host=host, log_path=settings.var_dir() / "superset.log"
    )
    with stage(f"Starting Superset on port {port}"):
        server.start()
    assert server.process is not None
    pid_file().write_text(str(server.process.pid))
    with stage("Importing the dashboards"):
        import_dashboards(
            SupersetClient(server.url, settings.DEMO_ADMIN_USER, password),
            directory or settings.DASHBOARDS_DIR,
            settings.warehouse_uri(),
        )
    return server


def admin_password() -> str:
    """The local admin's password: SUPERSET_ADMIN_PASSWORD, else the documented demo one."""
    return os.environ.get("SUPERSET_ADMIN_PASSWORD", settings.DEMO_ADMIN_PASSWORD)
