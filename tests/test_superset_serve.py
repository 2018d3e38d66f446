"""`serve` outside the demo: no start without real secrets, one clear line, owner-only files."""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from access_analytics.superset import settings
from access_analytics.superset.server import (
    StartError,
    SupersetServer,
    demo_admin_password,
    free_port,
    pid_file,
    serve_dashboards,
)


def serve(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SUPERSET_SECRET_KEY", "SUPERSET_ADMIN_PASSWORD")
    }
    clean.update(SUPERSET_VAR_DIR=str(tmp_path / "var"), COLUMNS="200", **env)
    return subprocess.run(
        [str(Path(sys.executable).with_name("access-analytics")), "serve", "--port", "1"],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "set SUPERSET_SECRET_KEY"),
        ({"SUPERSET_SECRET_KEY": "short"}, "SUPERSET_SECRET_KEY is too short"),
        ({"SUPERSET_SECRET_KEY": secrets.token_urlsafe(48)}, "set SUPERSET_ADMIN_PASSWORD"),
        (
            {
                "SUPERSET_SECRET_KEY": secrets.token_urlsafe(48),
                "SUPERSET_ADMIN_PASSWORD": "changeme",
            },
            "SUPERSET_ADMIN_PASSWORD is too weak",
        ),
    ],
)
def test_serve_refuses_without_real_secrets(tmp_path, env, message):
    result = serve(tmp_path, **env)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 1
    assert message in output
    assert "Traceback" not in output
    assert len(output.splitlines()) == 1, output


def test_the_demo_admin_password_is_random_kept_owner_only_and_shown_once(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERSET_VAR_DIR", str(tmp_path / "var"))
    password, new = demo_admin_password()
    again, new_again = demo_admin_password()
    assert new and not new_again and password == again and len(password) >= 20
    path = tmp_path / "var" / "admin_password"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key_file = tmp_path / "var" / "secret_key"
    settings.demo_secret_key(tmp_path / "var")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_the_metadata_db_and_its_folder_are_owner_only(superset_live):
    assert stat.S_IMODE((superset_live.workdir / "superset.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(superset_live.workdir.stat().st_mode) == 0o700


def test_a_failed_start_stops_its_server_and_says_one_line(superset_live, monkeypatch, tmp_path):
    """Dashboards that fail to import after gunicorn is up: no orphan server, one line."""
    broken = tmp_path / "dashboards"
    shutil.copytree(settings.DASHBOARDS_DIR, broken)
    sorted((broken / "datasets").rglob("*.yaml"))[0].unlink()
    for name in ("SUPERSET_DATABASE_URI", "SUPERSET_SECRET_KEY"):
        monkeypatch.setenv(name, superset_live.env[name])
    monkeypatch.setenv("SUPERSET_VAR_DIR", str(superset_live.workdir))
    monkeypatch.setenv("SUPERSET_ADMIN_PASSWORD", superset_live.password)
    monkeypatch.setenv("ACCESS_SERVING_WAREHOUSE_PATH", str(superset_live.warehouse))
    started: list[SupersetServer] = []
    original = SupersetServer.start

    def start(self: SupersetServer, *args, **kwargs) -> None:
        started.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(SupersetServer, "start", start)
    with pytest.raises(StartError) as raised:
        serve_dashboards(port=free_port(), directory=broken)
    assert "\n" not in str(raised.value)
    assert "dataset_uuid" in str(raised.value)
    (server,) = started
    assert server.process is not None and server.process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(server.group, 0)
    assert not pid_file().exists()
