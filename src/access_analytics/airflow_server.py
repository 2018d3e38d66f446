"""`make airflow-up` / `make airflow-down`: a local Airflow running the project's DAGs.

Airflow lives in its own environment (orchestration/.venv, `make airflow-setup`), so this
module never imports it: it starts `airflow api-server` (the UI and REST API), `airflow
scheduler` and `airflow dag-processor` from that environment, each in its own process
group, logging to `$AIRFLOW_HOME/logs/<process>.log`.

- State: `$AIRFLOW_HOME` (default `var/airflow`): a SQLite metadata DB, the logs, the
  generated login. LocalExecutor: Airflow 3 runs it on SQLite (one task at a time is
  all a daily pipeline of one build needs).
- Login: Airflow's simple auth manager with one user, `pipeline-admin` (or
  `ACCESS_AIRFLOW_USER`) in Airflow's admin role; Airflow generates its password into
  `simple_auth_manager_passwords.json.generated` (no password is fixed
  anywhere). The processes share one token secret, generated once (mode 0600).
- The processes are recognised from /proc by the Airflow executable of this checkout and
  their AIRFLOW_HOME (access_analytics.local_servers), so `airflow-down` and `make clean`
  stop them with no pid file.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from access_analytics.local_servers import AIRFLOW, StopError, servers_in, stop
from access_analytics.paths import PROJECT_ROOT

DAGS_FOLDER = PROJECT_ROOT / "orchestration" / "dags"
PROCESSES = ("api-server", "scheduler", "dag-processor")
# The simple auth manager's user list is `name:role`: the role is Airflow's, not a
# password (Airflow generates the password, see password_file). The user's name must
# differ from its role, so that the list never reads like a default login.
ROLE = "admin"
START_TIMEOUT_S = 240


class AirflowError(RuntimeError):
    """Airflow could not be started or stopped; the message is for the user."""


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME", PROJECT_ROOT / "var" / "airflow")).resolve()


def airflow_user() -> str:
    """The local user (ACCESS_AIRFLOW_USER): one name of the `name:role` list, never the
    role's own name."""
    user = os.environ.get("ACCESS_AIRFLOW_USER", "pipeline-admin")
    if not user or user.lower() == ROLE or any(mark in user for mark in ":, "):
        raise AirflowError(
            f"ACCESS_AIRFLOW_USER={user!r}: give a name without ':', ',' or spaces,"
            f" other than the role {ROLE!r}"
        )
    return user


def airflow_port() -> int:
    return int(os.environ.get("ACCESS_AIRFLOW_PORT", "8080"))


def airflow_host() -> str:
    """The address the API server listens on: this machine only, unless set."""
    return os.environ.get("ACCESS_AIRFLOW_HOST", "127.0.0.1")


def password_file(home: Path) -> Path:
    return home / "simple_auth_manager_passwords.json.generated"


def _secret(home: Path) -> str:
    """The token secret the API server and the task runners share, created once."""
    path = home / "jwt_secret"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def airflow_env(home: Path, port: int) -> dict[str, str]:
    base = f"http://localhost:{port}"
    return {
        **os.environ,
        "ACCESS_PROJECT_ROOT": str(PROJECT_ROOT),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{airflow_user()}:{ROLE}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
        "AIRFLOW__API__BASE_URL": base,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret(home),
    }


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def running(home: Path) -> list[int]:
    return [process.pid for process in servers_in([home], kinds=["Airflow"])]


def down(home: Path) -> list[int]:
    """Stop this checkout's Airflow processes of `home`, each with its process group (the
    task processes in it too)."""
    found = servers_in([home], kinds=["Airflow"])
    try:
        stop(found, timeout_s=30, groups=True)
    except StopError as error:
        raise AirflowError(f"Airflow: {error}") from error
    return [process.pid for process in found]


def up(home: Path, port: int, say=print) -> tuple[str, str]:
    """Start (or restart) the local Airflow; returns its URL and the user's password."""
    if not AIRFLOW.exists():
        raise AirflowError("Airflow's environment is missing: run `make airflow-setup`")
    if running(home):
        say("stopping the running local Airflow first")
        down(home)
    if not _port_free(port):
        raise AirflowError(f"port {port} is already in use (set ACCESS_AIRFLOW_PORT)")
    (home / "logs").mkdir(parents=True, exist_ok=True)
    env = airflow_env(home, port)
    say(f"Airflow metadata DB in {home} (airflow db migrate) ...")
    migrated = subprocess.run(
        [str(AIRFLOW), "db", "migrate"], env=env, capture_output=True, text=True
    )
    if migrated.returncode != 0:
        raise AirflowError(f"airflow db migrate failed:\n{migrated.stderr[-2000:]}")
    processes = {}
    for name in PROCESSES:
        command = [str(AIRFLOW), name]
        if name == "api-server":
            command += ["--host", airflow_host(), "--port", str(port)]
        # The process writes to its own copy of the handle; ours is closed at once.
        with (home / "logs" / f"{name}.log").open("ab") as log:
            processes[name] = subprocess.Popen(
                command, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
    url = f"http://localhost:{port}"
    say(f"starting the API server, scheduler and DAG processor on {url} ...")
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        dead = [name for name, process in processes.items() if process.poll() is not None]
        if dead:
            down(home)
            logs = ", ".join(str(home / "logs" / f"{name}.log") for name in dead)
            raise AirflowError(f"airflow {' and '.join(dead)} exited at start (see {logs})")
        try:
            if requests.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(1)
    else:
        down(home)
        raise AirflowError(f"Airflow did not answer on {url} within {START_TIMEOUT_S} s")
    return url, json.loads(password_file(home).read_text())[airflow_user()]


def main(argv: list[str]) -> int:
    if argv not in (["up"], ["down"]):
        print("usage: python -m access_analytics.airflow_server up|down", file=sys.stderr)
        return 2
    home = airflow_home()
    try:
        if argv == ["down"]:
            stopped = down(home)
            print("stopped the local Airflow" if stopped else "no local Airflow was running")
            return 0
        url, password = up(home, airflow_port())
    except AirflowError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"\nAirflow serves the DAGs at {url}   (logs: {home / 'logs'}; stop: make airflow-down)")
    print(f"login: {airflow_user()}, password: {password}   (kept in {password_file(home)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
