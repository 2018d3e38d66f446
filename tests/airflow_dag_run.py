"""Run the daily DAG once with Airflow's `dag.test()`, for tests/test_airflow_dag.py.

Runs in Airflow's own environment (orchestration/.venv/bin/python), never in the
project's: `python tests/airflow_dag_run.py YYYY-MM-DD` loads the DAG folder, fails on
any import error, runs the DAG for that ingest day in-process against the metadata DB
of $AIRFLOW_HOME, and prints one last line `RESULT {"task_id": "state", ...}`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys

from airflow.dag_processing.dagbag import DagBag

DAG_ID = "access_analytics_daily"


def main(ingest_day: str) -> None:
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise SystemExit(f"import errors: {bag.import_errors}")
    dag = bag.get_dag(DAG_ID)
    logical_date = dt.datetime.fromisoformat(ingest_day).replace(tzinfo=dt.UTC)
    run = dag.test(logical_date=logical_date)
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    print("RESULT " + json.dumps(states, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1])
