"""Removing var/ never leaves a server of this checkout holding its port.

`make clean` stops the servers whose state it removes, or refuses before removing anything.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from access_analytics import local_servers

REPO = Path(__file__).resolve().parents[1]


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
