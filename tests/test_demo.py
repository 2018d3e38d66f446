"""`access-analytics demo` generates, builds and tests, and prints rows that add up."""

from __future__ import annotations

import os
import subprocess

from access_analytics.paths import venv_bin


def test_demo_without_serving_builds_and_accounts_for_every_row(tmp_path):
    env = {
        **os.environ,
        "ACCESS_LAKE_ROOT": str(tmp_path / "lake"),
        "ACCESS_WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
        "ACCESS_PSEUDONYM_KEY": "demo-pseudonym-key",
        "COLUMNS": "100",
    }
    completed = subprocess.run(
        [venv_bin("access-analytics"), "demo", "--vehicles", "12", "--days", "4", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    output = completed.stdout
    for step in ("[1/3] Generating", "[2/3] Building and testing", "[3/3] Checking conservation"):
        assert step in output
    balance_rows = [line for line in output.splitlines() if line.strip().startswith(
        ("access_events", "fob_battery_readings"))]  # fmt: skip
    assert len(balance_rows) == 2
    assert all(row.rstrip().endswith("yes") for row in balance_rows)
    assert (tmp_path / "warehouse.duckdb").exists()
