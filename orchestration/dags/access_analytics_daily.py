"""access_analytics_daily: one run per ingest day, without a person.

Waits until the day's partitions of both telemetry tables are in the lake, builds
incrementally (the project's `access-analytics build` replaces the last good build only
when every model and test passed), publishes only that, warms the dashboards' chart
cache and sends the alerts of alerts/rules.yml, which also run when something upstream
failed (a late upload or a failed build is an alert of its own).

Airflow runs in its own environment (orchestration/.venv): every task calls the
project's command line in the project's environment, so the two never share packages.
Nothing runs at import time but reading the environment.
"""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.providers.standard.sensors.python import PythonSensor
from airflow.sdk import TriggerRule, dag, task

PROJECT = Path(os.environ.get("ACCESS_PROJECT_ROOT", Path(__file__).resolve().parents[2]))
TELEMETRY_TABLES = ("access_events", "fob_battery_readings")
SENSOR_TIMEOUT = timedelta(seconds=int(os.environ.get("ACCESS_SENSOR_TIMEOUT_S", 6 * 3600)))
SENSOR_POKE = timedelta(seconds=int(os.environ.get("ACCESS_SENSOR_POKE_S", 300)))


def lake_root() -> Path:
    return Path(os.environ.get("ACCESS_LAKE_ROOT", PROJECT / "data" / "lake"))


def partitions_arrived(ds: str) -> bool:
    """Both telemetry tables have the ingest day's partition."""
    return all(
        (lake_root() / "raw" / table / f"ingest_date={ds}").is_dir() for table in TELEMETRY_TABLES
    )


def run_cli(*arguments: str) -> None:
    """Run `access-analytics ...` in the project's environment; fail with its output."""
    command = [str(PROJECT / ".venv" / "bin" / "access-analytics"), *arguments]
    completed = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True)
    print(completed.stdout)
    print(completed.stderr)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} exited {completed.returncode}")


@dag(
    dag_id="access_analytics_daily",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # one build at a time: each starts from the last good one
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["access-analytics"],
)
def access_analytics_daily():
    wait_for_partitions = PythonSensor(
        task_id="wait_for_partitions",
        python_callable=partitions_arrived,
        op_kwargs={"ds": "{{ ds }}"},
        mode="reschedule",
        poke_interval=SENSOR_POKE,
        timeout=SENSOR_TIMEOUT,
        retries=0,  # the timeout is the data-late signal, not a transient failure
    )

    @task(retries=0)
    def build() -> None:
        """Incremental dbt build, tests included; the last good build stays on failure."""
        run_cli("build")

    @task
    def publish() -> None:
        run_cli("dashboards", "publish")

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def send_alerts(ds: str | None = None) -> None:
        """Alerts as of the run's day: also after a late upload or a failed build."""
        run_cli("alerts", "send", "--as-of", str(ds))

    published = wait_for_partitions >> build() >> publish()
    published >> send_alerts()


access_analytics_daily()
