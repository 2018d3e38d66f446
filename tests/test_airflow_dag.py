"""The daily DAG end to end, with Airflow's own `dag.test()`, on a lake that grows a day at a time.

One small fleet is generated aside and delivered to the pipeline's lake ingest day by
ingest day, and the DAG runs for each day in Airflow's environment (tests/airflow_dag_run.py)
against a real Superset (the session's) and real alert receivers (SMTP and webhook):

1. the first day builds from scratch, publishes, warms the dashboards' cache;
2. a second new day builds incrementally and publishes: the dashboards show the new day,
   and a new browser finds every chart query in the cache;
3. a day whose partitions never arrive: the sensor times out (after a few seconds here),
   nothing is built or published, and a *data late* alert is sent;
4. a day with a file that does not decode: the build fails, the staging layer's task
   names the model, nothing is published (the served file is the same file), and a
   *build failed* alert is sent, with no second *data late* alert;
5. `make airflow-up` on the Airflow home of these runs: its grid view is the README's
   screenshot (docs/screenshots/airflow-grid.png); `make airflow-down` stops it.

The session's served warehouse is published back at the end for the tests after this one.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import requests
from alert_receivers import Mailbox, smtp_receiver, webhook_receiver

from access_analytics import airflow_server, local_servers
from access_analytics.build import LAYERS
from access_analytics.generator import generate_lake
from access_analytics.local_servers import servers_in
from access_analytics.paths import PROJECT_ROOT
from access_analytics.superset import settings
from access_analytics.superset.assets import load_bundle
from access_analytics.superset.browser import VIEWPORT, chromium, dashboard_pages, open_dashboards
from access_analytics.superset.server import free_port
from access_analytics.warehouse import publish

ORCHESTRATION = PROJECT_ROOT / "orchestration"
AIRFLOW_BIN = ORCHESTRATION / ".venv" / "bin"
DAG_FILE = ORCHESTRATION / "dags" / "access_analytics_daily.py"
RUNNER = Path(__file__).with_name("airflow_dag_run.py")
START = dt.date(2026, 1, 5)
FLEET = {"vehicles": 30, "days": 6, "start_date": START, "seed": 11}
TABLES = ("access_events", "fob_battery_readings", "vehicles", "keys", "firmware_releases")
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
PARTITION = re.compile(r"^(ingest_date|snapshot_date)=(\d{4}-\d{2}-\d{2})$")


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


@dataclass
class Run:
    states: dict[str, str]
    output: str


@dataclass
class Pipeline:
    source: Path
    lake: Path
    env: dict[str, str]
    served: Path
    mailbox: Mailbox
    webhook: list[dict]

    def deliver(self, through: dt.date, *, skip: dt.date | None = None) -> None:
        """Copy every partition up to `through` (but `skip`) from the generated lake."""
        for table in TABLES:
            for folder in sorted((self.source / "raw" / table).iterdir()):
                match = PARTITION.match(folder.name)
                if not match or dt.date.fromisoformat(match.group(2)) > through:
                    continue
                if skip is not None and dt.date.fromisoformat(match.group(2)) == skip:
                    continue
                target = self.lake / "raw" / table / folder.name
                if not target.exists():
                    shutil.copytree(folder, target)

    def run(self, ingest_day: dt.date) -> Run:
        completed = subprocess.run(
            [str(AIRFLOW_BIN / "python"), str(RUNNER), ingest_day.isoformat()],
            env=self.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        output = completed.stdout + completed.stderr
        results = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
        assert completed.returncode == 0 and results, output[-6000:]
        return Run(json.loads(results[-1].removeprefix("RESULT ")), output)

    def sent(self) -> tuple[list[str], list[str]]:
        """Subjects of the mails and texts of the webhook posts so far, then forgets them."""
        mails = [str(message["Subject"]) for message in self.mailbox.messages]
        hooks = [post["text"] for post in self.webhook]
        self.mailbox.messages.clear()
        self.webhook.clear()
        return mails, hooks


def newest_ingest_day(served: Path) -> dt.date:
    with duckdb.connect(str(served), read_only=True) as con:
        (newest,) = con.execute(
            "select min(newest_ingest_date) from main.build_info where is_telemetry"
        ).fetchone()
    return newest


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, superset_live, built_warehouse):
    if not (AIRFLOW_BIN / "airflow").exists():
        pytest.fail("Airflow's environment is missing: run `make airflow-setup`")
    root = tmp_path_factory.mktemp("airflow_dag")
    source, lake = root / "generated", root / "lake"
    generate_lake(source, **FLEET)
    with smtp_receiver() as (mailbox, smtp_port), webhook_receiver() as (posts, webhook_url):
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(root / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAG_FILE.parent),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "ACCESS_PROJECT_ROOT": str(PROJECT_ROOT),
            "ACCESS_LAKE_ROOT": str(lake),
            "ACCESS_WAREHOUSE_PATH": str(root / "build" / "warehouse.duckdb"),
            "ACCESS_SERVING_WAREHOUSE_PATH": str(superset_live.warehouse),
            "ACCESS_SUPERSET_URL": superset_live.url,
            "SUPERSET_URL": superset_live.url,
            "SUPERSET_USERNAME": superset_live.username,
            "SUPERSET_PASSWORD": superset_live.password,
            "ACCESS_ALERT_SMTP_HOST": "127.0.0.1",
            "ACCESS_ALERT_SMTP_PORT": str(smtp_port),
            "ACCESS_ALERT_WEBHOOK_URL": webhook_url,
            "ACCESS_ALERT_STATE_PATH": str(root / "alert_state.json"),
            "ACCESS_SENSOR_TIMEOUT_S": "5",
            "ACCESS_SENSOR_POKE_S": "1",
            "ACCESS_AIRFLOW_RETRIES": "0",
        }
        subprocess.run(
            [str(AIRFLOW_BIN / "airflow"), "db", "migrate"],
            env=env,
            check=True,
            capture_output=True,
        )
        try:
            yield Pipeline(source, lake, env, superset_live.warehouse, mailbox, posts)
        finally:
            publish(built_warehouse.path, superset_live.warehouse, built_warehouse.manifest)


@pytest.fixture(scope="module")
def first_two_days(pipeline) -> list[Run]:
    runs = []
    for ingest_day in (day(2), day(3)):
        pipeline.deliver(ingest_day)
        runs.append(pipeline.run(ingest_day))
    return runs


def test_the_dag_reports_the_layers_the_project_knows():
    """The DAG's layer tasks are the layers a build record's nodes are placed in."""
    tree = ast.parse(DAG_FILE.read_text())
    (layers,) = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "LAYERS"
    ]
    assert set(layers) == set(LAYERS)


@pytest.mark.parametrize("name", ["admin", "Admin", "ops:admin", "ops,admin", "ops team", ""])
def test_a_local_user_that_would_break_the_user_list_is_refused(monkeypatch, tmp_path, name):
    """The user list is `name:role`: a name with a separator, or the role's own name (which
    reads like a default login), stops `make airflow-up` with one line."""
    monkeypatch.setenv("ACCESS_AIRFLOW_USER", name)
    with pytest.raises(airflow_server.AirflowError, match=r"^ACCESS_AIRFLOW_USER="):
        airflow_server.airflow_user()
    monkeypatch.setenv("ACCESS_AIRFLOW_USER", "ops-bot")
    assert airflow_server.airflow_user() == "ops-bot"
    assert (
        airflow_server.airflow_env(tmp_path, 8080)["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"]
        == "ops-bot:admin"
    )


def test_each_new_day_is_built_published_and_shown(pipeline, first_two_days, superset_live):
    for run in first_two_days:
        assert run.states.pop("run_failed") == "skipped", run.states
        assert set(run.states.values()) == {"success"}, run.states
        assert f"published {pipeline.served}" in run.output
    # The second run started from the first one's build (incremental), not from scratch.
    assert "Building into a copy of the last good build" in first_two_days[1].output
    assert newest_ingest_day(pipeline.served) == day(3)
    # What the dashboards show: the freshness strip's newest ingest day, through Superset.
    client = superset_live.client()
    strip = client.chart_data(
        {
            "datasource": {"id": _dataset_id(client, "build_freshness"), "type": "table"},
            "queries": [{"columns": ["newest_ingest_date"], "metrics": [], "row_limit": 1}],
            "force": True,
        }
    )
    assert strip.status_code == 200, strip.text
    newest_shown = strip.json()["result"][0]["data"][0]["newest_ingest_date"]  # epoch ms
    assert dt.datetime.fromtimestamp(newest_shown / 1000, tz=dt.UTC).date() == day(3)


def test_after_a_run_the_next_reader_finds_every_chart_in_the_cache(first_two_days, superset_live):
    """The warm step opened every dashboard after the publish: a new browser and login,
    as the morning's first reader, gets every chart query answered from the cache."""
    assert "warmed 5 dashboards" in first_two_days[1].output
    live = superset_live
    pages = dashboard_pages(load_bundle(settings.DASHBOARDS_DIR))
    for opening in open_dashboards(live.url, live.username, live.password, pages):
        title = opening.dashboard.title
        assert opening.ok, f"{title}: " + "; ".join(map(str, opening.problems))
        assert opening.chart_queries and opening.cached_queries == opening.chart_queries, (
            f"{title}: {opening.cached_queries} of {opening.chart_queries} chart queries cached"
        )


def _dataset_id(client, name: str) -> int:
    (dataset,) = [
        d for d in client.list_all("dataset", ["id", "table_name"]) if d["table_name"] == name
    ]
    return dataset["id"]


@pytest.fixture(scope="module")
def late_day(pipeline, first_two_days) -> Run:
    pipeline.sent()  # what the first days raised is not this test's subject
    return pipeline.run(day(4))  # day 4 is never delivered


def test_a_missing_partition_times_out_and_alerts_data_late(pipeline, late_day):
    states = late_day.states
    assert states["wait_for_partitions"] == "failed", states
    for task in ("dbt_build", "publish", "warm_cache"):
        assert states[task] == "upstream_failed", states
    assert states["send_alerts"] == "success" and states["run_failed"] == "failed", states
    assert newest_ingest_day(pipeline.served) == day(3)
    mails, hooks = pipeline.sent()
    late = [subject for subject in mails if "no new data for 2 days" in subject]
    assert len(late) == 2, mails  # both telemetry tables
    assert sum("no new data for 2 days" in text for text in hooks) == 2, hooks


@pytest.fixture(scope="module")
def broken_day(pipeline, late_day) -> tuple[Run, os.stat_result, os.stat_result]:
    pipeline.deliver(day(5))
    broken = pipeline.lake / "raw" / "access_events" / f"ingest_date={day(5)}"
    victim = sorted(broken.glob("*.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])  # a cut-off upload
    before = pipeline.served.stat()
    run = pipeline.run(day(5))
    return run, before, pipeline.served.stat()


def test_a_failing_build_publishes_nothing_and_alerts(pipeline, broken_day):
    run, before, after = broken_day
    states = run.states
    assert states["dbt_build"] == "failed", states
    assert states["publish"] == "upstream_failed" and states["warm_cache"] == "upstream_failed"
    assert states["send_alerts"] == "success" and states["run_failed"] == "failed", states
    # The served file is the very same file: nothing was published.
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert newest_ingest_day(pipeline.served) == day(3)
    mails, hooks = pipeline.sent()
    assert [s for s in mails if "dbt build failed" in s], mails
    assert any("dbt build failed" in text for text in hooks), hooks
    # Data late was sent by the run before; it still holds and is not sent again.
    assert not [s for s in mails if "no new data" in s], mails


def test_the_failed_layer_names_the_model(broken_day):
    run, _before, _after = broken_day
    failed_layers = {
        t for t, s in run.states.items() if t.startswith("dbt_nodes.") and s == "failed"
    }
    assert failed_layers == {"dbt_nodes.staging"}, run.states
    assert re.search(r"node\(s\) of staging did not pass: model\.access_analytics\.\w+", run.output)


def test_airflow_up_serves_the_runs_and_down_stops_it(pipeline, broken_day, tmp_path):
    """`make airflow-up` on the home these runs wrote: the API refuses anonymous calls,
    lists the DAG with no import error, the UI logs in with the generated password, and
    its grid view (the README's screenshot) shows the four runs; `airflow-down` stops it."""
    env = {**pipeline.env, "ACCESS_AIRFLOW_PORT": str(free_port())}
    module = [
        str(PROJECT_ROOT / ".venv" / "bin" / "python"),
        "-m",
        "access_analytics.airflow_server",
    ]
    started = subprocess.run([*module, "up"], env=env, capture_output=True, text=True)
    home = Path(env["AIRFLOW_HOME"])
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        url = f"http://localhost:{env['ACCESS_AIRFLOW_PORT']}"
        password = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
        user = airflow_server.airflow_user()
        assert user != "admin", "the local Airflow user must not be named after its role"
        assert f"login: {user}, password: {password[user]}" in started.stdout
        assert requests.get(f"{url}/api/v2/dags", timeout=10).status_code == 401
        token = requests.post(
            f"{url}/auth/token",
            json={"username": user, "password": password[user]},
            timeout=10,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert (
            requests.get(f"{url}/api/v2/importErrors", headers=headers, timeout=10).json()[
                "total_entries"
            ]
            == 0
        )
        runs = requests.get(
            f"{url}/api/v2/dags/access_analytics_daily/dagRuns", headers=headers, timeout=10
        ).json()
        assert sorted(run["state"] for run in runs["dag_runs"]) == [
            "failed", "failed", "success", "success"
        ]  # fmt: skip
        screenshot_grid(url, user, password[user], SCREENSHOTS / "airflow-grid.png")
        # The API server retitles itself; it must still be found as this home's, or
        # `airflow-down` would leave it serving.
        port = int(env["ACCESS_AIRFLOW_PORT"])
        listening = local_servers.listening_pids(port)
        assert {p.pid for p in servers_in([home])} & listening, "API server not found"
    finally:
        stopped = subprocess.run([*module, "down"], env=env, capture_output=True, text=True)
    assert stopped.returncode == 0 and "stopped the local Airflow" in stopped.stdout
    assert not servers_in([home], kinds=["Airflow"])
    assert not local_servers.listening_pids(port), f"{port} still listened on after airflow-down"


def screenshot_grid(url: str, user: str, password: str, path: Path) -> None:
    """Log in to Airflow's UI in headless Chromium and save the DAG's grid view."""
    with chromium() as browser:
        tab = browser.new_context(viewport=VIEWPORT).new_page()  # type: ignore[arg-type]
        tab.goto(f"{url}/")
        tab.fill("input[name=username]", user)
        tab.fill("input[name=password]", password)
        tab.locator("button[type=submit]").click()
        tab.wait_for_url(lambda address: "/auth/login" not in address, timeout=60_000)
        tab.goto(f"{url}/dags/access_analytics_daily")
        tab.wait_for_load_state("networkidle")
        tab.wait_for_timeout(2_000)  # the grid draws its cells after the data arrived
        path.parent.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
