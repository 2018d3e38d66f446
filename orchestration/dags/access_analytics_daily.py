"""access_analytics_daily: one run per ingest day, without a person.

1. `wait_for_partitions` waits until the ingest day's partitions of both telemetry tables
   are in the lake; when its timeout passes the run goes on to the alerts, where the
   `data_late` rule fires.
2. `dbt_build` runs the project's `access-analytics build`: one incremental `dbt build`,
   tests included, into a copy of the last good build, which it replaces only when every
   node passed. One invocation, because the build record that publishing trusts is the
   record of one complete build (running dbt node by node, as astronomer-cosmos does,
   would leave no such record).
3. The `dbt_nodes` group has one task per layer of the project (macros, seeds, staging,
   intermediate, marts, restricted), read from that build record: a failed model or test
   turns its layer's task red, and the task's log names it with dbt's message. Nodes
   skipped because of a failure elsewhere show as skipped.
4. `publish` copies the marts to the file Superset serves, only when nothing failed
   (it checks the build record again itself), then `warm_cache` opens every dashboard
   so the first person in the morning reads from the cache.
5. `send_alerts` evaluates alerts/rules.yml on the published marts as of the day after
   the ingest day, whatever happened upstream: a late upload or a failed build is an
   alert of its own. `run_failed` then fails the run when any task failed (and is
   skipped otherwise), so the grid shows a late or failed day in red.

Every step is safe to rerun for any day: the build reads the whole lake (a day already
built changes nothing), publishing replaces a file atomically, and the alerts remember
what they sent. docs/orchestration.md says how to backfill a range of ingest days.

Airflow runs in its own environment (orchestration/.venv): every task calls the
project's command line in the project's environment, so the two never share packages.
At import time this file only reads the environment.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pendulum
from airflow.providers.standard.sensors.python import PythonSensor
from airflow.sdk import TaskGroup, TriggerRule, dag, task
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException
from airflow.timetables.interval import CronDataIntervalTimetable

PROJECT = Path(os.environ.get("ACCESS_PROJECT_ROOT", Path(__file__).resolve().parents[2]))
TELEMETRY_TABLES = ("access_events", "fob_battery_readings")
# The layers a build record's nodes are reported in (access_analytics.build.LAYERS).
LAYERS = ("macros", "seeds", "staging", "intermediate", "marts", "restricted")
SENSOR_TIMEOUT = timedelta(seconds=int(os.environ.get("ACCESS_SENSOR_TIMEOUT_S", 6 * 3600)))
SENSOR_POKE = timedelta(seconds=int(os.environ.get("ACCESS_SENSOR_POKE_S", 300)))
RETRIES = int(os.environ.get("ACCESS_AIRFLOW_RETRIES", 2))
RETRY_DELAY = timedelta(seconds=int(os.environ.get("ACCESS_AIRFLOW_RETRY_DELAY_S", 300)))
# Where the build's node results travel from `dbt_build` to the layer tasks.
RECORD_KEY = "build_record"


def lake_root() -> Path:
    return PROJECT / os.environ.get("ACCESS_LAKE_ROOT", "data/lake")


def partitions_arrived(ingest_day: str) -> bool:
    """Both telemetry tables have the ingest day's partition."""
    folders = [
        lake_root() / "raw" / table / f"ingest_date={ingest_day}" for table in TELEMETRY_TABLES
    ]
    missing = [str(folder) for folder in folders if not folder.is_dir()]
    if missing:
        print(f"waiting for {', '.join(missing)}")
    return not missing


def run_cli(*arguments: str, echo: bool = True) -> subprocess.CompletedProcess[str]:
    """`access-analytics ...` in the project's environment, its output in the task log."""
    command = [str(PROJECT / ".venv" / "bin" / "access-analytics"), *arguments]
    print("$ access-analytics " + " ".join(arguments), flush=True)
    completed = subprocess.run(
        command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if echo:
        print(completed.stdout, flush=True)
    return completed


def run_cli_or_fail(*arguments: str) -> None:
    completed = run_cli(*arguments)
    if completed.returncode != 0:
        raise AirflowException(
            f"access-analytics {' '.join(arguments)} exited {completed.returncode}"
        )


def newest_build_record(since: datetime) -> dict | None:
    """The build record of the newest build, when that build started after `since`."""
    completed = run_cli("build-record", "--json", echo=False)
    try:
        record = json.loads(completed.stdout)
    except ValueError:
        print(completed.stdout)
        return None
    return record if datetime.fromisoformat(record["started_at"]) >= since else None


@dag(
    dag_id="access_analytics_daily",
    # One run per ingest day: the run for day D starts once D is over (data interval D..D+1).
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # one build at a time: each starts from the last good one
    default_args={"retries": RETRIES, "retry_delay": RETRY_DELAY},
    tags=["access-analytics"],
    doc_md=__doc__,
)
def access_analytics_daily():
    wait_for_partitions = PythonSensor(
        task_id="wait_for_partitions",
        python_callable=partitions_arrived,
        op_kwargs={"ingest_day": "{{ ds }}"},
        mode="reschedule",
        poke_interval=SENSOR_POKE,
        timeout=SENSOR_TIMEOUT,
        retries=0,  # the timeout is the data-late signal, not a transient failure
    )

    @task
    def dbt_build(ti=None) -> None:
        """Incremental dbt build, tests included; the last good build stays on failure."""
        started = datetime.now(UTC)
        completed = run_cli("build")
        record = newest_build_record(started)
        if record is not None:
            ti.xcom_push(key=RECORD_KEY, value=record)
        if completed.returncode == 0:
            return
        if record is not None:  # models or tests failed: the same build would fail again
            raise AirflowFailException(f"dbt build failed: {record['refusal']}")
        raise AirflowException(
            f"access-analytics build exited {completed.returncode} before dbt ran"
        )

    @task(trigger_rule=TriggerRule.ALL_DONE, retries=0)
    def check_layer(layer: str, ti=None) -> None:
        """Fail when a model or test of this layer failed in this run's build; name it."""
        record = ti.xcom_pull(task_ids="dbt_build", key=RECORD_KEY)
        if record is None:
            raise AirflowSkipException("dbt did not run in this run: see dbt_build")
        nodes = [node for node in record["nodes"] if node["layer"] == layer]
        failed = [
            node for node in nodes if node["status"] not in ("success", "pass", "warn", "no-op")
        ]
        causes = [node for node in failed if node["status"] != "skipped"]
        print(f"build {record['invocation_id']}: {len(nodes)} node(s) in {layer},", end=" ")
        print(f"{len(failed)} not passed")
        for node in causes + [node for node in failed if node not in causes]:
            print(f"  {node['status']}: {node['unique_id']}  {node['message']}")
        if causes:
            named = ", ".join(f"{node['unique_id']} ({node['status']})" for node in causes[:5])
            raise AirflowFailException(f"{len(causes)} node(s) of {layer} did not pass: {named}")
        if failed:
            raise AirflowSkipException(f"{len(failed)} node(s) skipped after a failure upstream")

    @task(trigger_rule=TriggerRule.NONE_FAILED)
    def publish() -> None:
        """Copy the marts of the passed build to the served file (refused on any failure)."""
        run_cli_or_fail("dashboards", "publish")

    @task
    def warm_cache() -> None:
        """Open every dashboard once so its charts answer from the cache."""
        run_cli_or_fail("dashboards", "warm")

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def send_alerts(as_of: str) -> None:
        """Alerts as of the day after the ingest day: also after a late upload or a failed build."""
        run_cli_or_fail("alerts", "send", "--as-of", as_of)

    @task(trigger_rule=TriggerRule.ONE_FAILED, retries=0)
    def run_failed() -> None:
        """Fail the run when any task failed: the alerts task is the last step and succeeds
        after a late upload or a failed build, and a run is judged by its last tasks."""
        raise AirflowFailException("a task of this run failed (the alerts were sent): see above")

    built = dbt_build()
    with TaskGroup("dbt_nodes", tooltip="The build's models and tests, by layer") as dbt_nodes:
        for layer in LAYERS:
            check_layer.override(task_id=layer)(layer)
    published = publish()
    wait_for_partitions >> built >> dbt_nodes >> published
    built >> published  # a build that never recorded its nodes is not published either
    warmed = warm_cache()
    alerted = send_alerts("{{ macros.ds_add(ds, 1) }}")
    published >> warmed >> alerted
    [wait_for_partitions, built, dbt_nodes, published, warmed, alerted] >> run_failed()


access_analytics_daily()
