"""Removing var/ never leaves a server of this checkout holding its port.

`make clean` stops the servers whose state it removes; `trino up` and `serve` replace their
own server left running without its pid file, and refuse a port held by anything else.
Each server is started for real, in a temporary var folder on a free port.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from access_analytics import local_servers
from access_analytics.superset import settings
from access_analytics.superset.server import StartError, SupersetServer, free_port
from access_analytics.trino import server as trino

REPO = Path(__file__).resolve().parents[1]


def running(pid: int) -> bool:
    """The process exists and is not a zombie (reaping it when it is a child of this one)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1]
    except OSError:
        return False
    return state not in {"Z", "X"}


def accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def foreign_listener(tmp_path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Another program on a port: a Python socket server started in this checkout, naming
    the var folder in its arguments and environment, but not one of the project's servers."""
    var = tmp_path / "var"
    code = (
        "import socket, time\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "print(s.getsockname()[1], flush=True)\n"
        "time.sleep(600)\n"
    )
    env = {
        **os.environ,
        "SUPERSET_VAR_DIR": str(var / "superset"),
        "SUPERSET_CONFIG_PATH": str(settings.SUPERSET_CONFIG),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", code, f"-Dnode.data-dir={var / 'trino' / 'data'}"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process, int(process.stdout.readline())
    finally:
        process.kill()
        process.wait()


def test_make_clean_stops_the_servers_before_removing_anything():
    recipe = subprocess.run(
        ["make", "-n", "clean"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    stop = next(i for i, line in enumerate(recipe) if "access_analytics.local_servers stop" in line)
    remove = next(i for i, line in enumerate(recipe) if line.startswith("rm -rf"))
    assert stop < remove
    assert recipe[stop].split(" stop ", 1)[1].split() == recipe[remove].split()[2:]


def test_clean_refuses_in_one_line_when_a_server_does_not_stop(monkeypatch, capsys):
    stuck = local_servers.Process(4242, "Trino", REPO / "var" / "trino", 4242)
    monkeypatch.setattr(local_servers, "servers_in", lambda _directories: [stuck])

    def stop(_processes, timeout_s=30.0):
        raise local_servers.StopError("process(es) 4242 did not stop")

    monkeypatch.setattr(local_servers, "stop", stop)
    assert local_servers.main(["stop", "var"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: cannot stop Trino (pid 4242): process(es) 4242 did not stop; nothing removed\n"
    )


# --- Trino ------------------------------------------------------------------------------------


def test_trino_up_refuses_a_foreign_listener_and_leaves_it_alone(tmp_path, foreign_listener):
    process, port = foreign_listener
    settings_ = trino.TrinoSettings(port=port, var_dir=tmp_path / "var" / "trino")
    with pytest.raises(trino.TrinoError, match=f"^port {port} is already in use"):
        trino.start(settings_, log=lambda _line: None)
    assert process.poll() is None and accepts(port)


@pytest.mark.trino
def test_trino_up_replaces_its_orphan_and_clean_stops_it(tmp_path):
    var = tmp_path / "var"
    # 2G: the heap must hold the 1 GB query memory plus headroom; the session's server may run.
    settings_ = trino.TrinoSettings(port=trino.find_free_port(), var_dir=var / "trino", heap="2G")
    lines: list[str] = []
    first = trino.start(settings_, log=lines.append)
    second = None
    try:
        shutil.rmtree(var)  # what `make clean` used to do: the pid file goes, Trino stays
        assert running(first.pid) and accepts(settings_.port)
        lines.clear()
        second = trino.start(settings_, log=lines.append)
        assert not second.already_running and second.pid != first.pid
        assert not running(first.pid)
        replaced = [line for line in lines if line.startswith("replacing")]
        assert replaced == [
            f"replacing Trino (pid {first.pid}) left running on port {settings_.port} "
            f"without its pid file (runtime directory {settings_.var_dir})"
        ]
        assert trino.query("select 1", settings_) == [(1,)]

        stopped = local_servers.stop_servers_in([var], log=lines.append)
        assert [process.pid for process in stopped] == [second.pid]
        assert lines[-1] == f"stopped Trino (pid {second.pid})"
        assert not running(second.pid) and not accepts(settings_.port)
    finally:
        for pid in (first.pid, second.pid if second else None):
            if pid and running(pid):
                os.kill(pid, signal.SIGKILL)


# --- Superset ---------------------------------------------------------------------------------


def test_serve_refuses_a_foreign_listener_and_leaves_it_alone(tmp_path, foreign_listener):
    process, port = foreign_listener
    env = settings.superset_env(tmp_path / "var" / "superset", secret_key="x" * 48)
    server = SupersetServer(env=env, port=port)
    with pytest.raises(StartError, match=f"^port {port} is already in use"):
        server.start()
    assert server.redis is None and server.process is None
    assert process.poll() is None and accepts(port)


def test_serve_replaces_its_orphan_and_clean_stops_it(superset_live, tmp_path):
    """Superset with its redis-server; the metadata DB is the session server's (initialized)."""
    var = tmp_path / "var"

    def server(say=print) -> SupersetServer:
        env = settings.superset_env(
            var / "superset", secret_key=superset_live.env["SUPERSET_SECRET_KEY"]
        )
        env["SUPERSET_DATABASE_URI"] = superset_live.env["SUPERSET_DATABASE_URI"]
        return SupersetServer(env=env, port=port, workers=1, say=say)

    port = free_port()
    first, second = server(), None
    first.start()
    try:
        assert first.redis is not None, "needs redis-server (installed by .ci/run)"
        old = local_servers.group_members(first.group)
        assert len(old) >= 3  # redis-server, gunicorn, its worker
        shutil.rmtree(var)  # what `make clean` used to do: the pid file goes, Superset stays
        lines: list[str] = []
        second = server(say=lines.append)
        second.start()
        assert lines == [
            f"replacing Superset (pids {', '.join(map(str, sorted(old)))}) left running on "
            f"port {port} without its pid file (var folder {var / 'superset'})"
        ]
        assert not [pid for pid in old if running(pid)]
        assert requests.get(f"{second.url}/health", timeout=5).status_code == 200

        new = local_servers.group_members(second.group)
        stopped = local_servers.stop_servers_in([var], log=lines.append)
        assert sorted(process.pid for process in stopped) == sorted(new)
        assert lines[-1] == f"stopped Superset (pids {', '.join(map(str, sorted(new)))})"
        assert not local_servers.group_members(second.group) and not accepts(port)
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_stop_by_group_also_ends_the_members_it_was_not_given(tmp_path):
    """`make airflow-down` stops Airflow's processes by process group: a task process in the
    group that ignores SIGTERM and bears no mark of its own is killed once the listed
    process is gone. Stopping by pid alone leaves it running, which is why groups exist."""
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"
    leader_code = (
        "import subprocess, sys, time;"
        f" subprocess.Popen([sys.executable, '-c', {stubborn!r}]); time.sleep(300)"
    )

    def start_group() -> tuple[subprocess.Popen[bytes], list[int]]:
        leader = subprocess.Popen([sys.executable, "-c", leader_code], start_new_session=True)
        for _ in range(100):
            members = [pid for pid in local_servers.group_members(leader.pid) if pid != leader.pid]
            if members:
                return leader, members
            subprocess.run(["sleep", "0.05"], check=True)
        raise AssertionError("the task process did not start")

    leader, (task,) = start_group()
    process = local_servers.Process(leader.pid, "Airflow", tmp_path, leader.pid)
    local_servers.stop([process], timeout_s=5, groups=True)
    assert not running(leader.pid)
    assert not running(task)
    assert local_servers.group_members(leader.pid) == []

    leader, (task,) = start_group()
    try:
        local_servers.stop([local_servers.Process(leader.pid, "Airflow", tmp_path, leader.pid)])
        assert not running(leader.pid)
        assert running(task)  # by pid, the stubborn group member outlives its leader
    finally:
        os.killpg(leader.pid, signal.SIGKILL)
