"""Alerts as code: rules over the published test fleet, delivered once to real receivers.

Messages go to a real local SMTP server (aiosmtpd) and a local HTTP receiver standing in
for a Slack-compatible webhook. The test fleet's planted firmware regression (2026.4.3,
flagged by the slow-unlock guardrail on 2026-02-03) must give exactly one rollout alert
however often the rules run.
"""

from __future__ import annotations

import datetime as dt
import shutil
import urllib.parse
from pathlib import Path

import duckdb
import pytest
import yaml
from alert_receivers import smtp_receiver, webhook_receiver
from typer.testing import CliRunner

from access_analytics import alerts
from access_analytics.build import failed_path
from access_analytics.cli import app
from access_analytics.warehouse import BUILD_RECORD_SCHEMA

PLANTED = "firmware_rollout_regression/2026.4.3"


@pytest.fixture
def mailbox():
    with smtp_receiver() as receiver:
        yield receiver


@pytest.fixture
def webhook():
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
def delivery(mailbox, webhook):
    return alerts.Delivery(smtp_host="127.0.0.1", smtp_port=mailbox[1], webhook_url=webhook[1])


@pytest.fixture
def no_failed_build(tmp_path):
    return tmp_path / "no-failed-build" / "warehouse.duckdb"


def evaluate(warehouse: Path, failed: Path, rules: Path = alerts.RULES_PATH):
    return alerts.evaluate(alerts.load_rules(rules), warehouse, failed)


def test_every_rule_runs_on_the_published_test_fleet(superset_warehouse, no_failed_build):
    found = evaluate(superset_warehouse, no_failed_build)
    names = {rule.name for rule in alerts.load_rules()}
    assert {
        "firmware_rollout_regression",
        "firmware_release_regression",
        "walkaway_reliability_below_slo",
        "cell_lot_battery_risk",
        "quarantined_share",
        "data_late",
        "build_failed",
    } <= names
    # The test fleet's data are months old: both telemetry tables are late.
    assert {a.key for a in found if a.rule.name == "data_late"} == {
        "data_late/access_events",
        "data_late/fob_battery_readings",
    }


def test_data_is_late_two_days_after_the_newest_ingest_day(superset_warehouse, no_failed_build):
    with duckdb.connect(str(superset_warehouse), read_only=True) as con:
        (newest,) = con.execute(
            "select min(newest_ingest_date) from main.build_info where is_telemetry"
        ).fetchone()
    rules = alerts.load_rules()

    def late(days_after: int) -> list[str]:
        as_of = newest + dt.timedelta(days=days_after)
        found = alerts.evaluate(rules, superset_warehouse, no_failed_build, as_of=as_of)
        return sorted(a.key for a in found if a.rule.name == "data_late")

    assert late(1) == []
    assert late(2) == ["data_late/access_events", "data_late/fob_battery_readings"]


def test_the_planted_regression_names_release_guardrail_day_and_dashboard(
    superset_warehouse, no_failed_build
):
    rollout = [
        a
        for a in evaluate(superset_warehouse, no_failed_build)
        if a.rule.name == "firmware_rollout_regression"
    ]
    assert [a.key for a in rollout] == [PLANTED]
    (alert,) = rollout
    assert alert.title() == "Firmware 2026.4.3 regressed in its rollout (slow unlock)"
    assert "on 2026-02-03" in alert.message()
    assert "against 2026.2.3" in alert.message()
    link = urllib.parse.urlsplit(alert.link)
    assert link.path == "/superset/dashboard/firmware-release-health/"
    native = urllib.parse.parse_qs(link.query)["native_filters"][0]
    assert "NATIVE_FILTER-rollout_release" in native
    assert "col:firmware_version,op:IN,val:!('2026.4.3')" in native


def test_each_condition_is_sent_once_then_resolved_once(
    superset_warehouse, tmp_path, delivery, mailbox, webhook, monkeypatch, no_failed_build
):
    monkeypatch.setattr(alerts, "failed_path", lambda good: no_failed_build)
    state = tmp_path / "state.json"
    first = alerts.run(alerts.RULES_PATH, superset_warehouse, state, delivery)
    keys = [n.key for n in first]
    assert keys.count(PLANTED) == 1
    assert {n.kind for n in first} == {"firing"}
    assert len(mailbox[0].messages) == len(first) == len(webhook[0])

    mail = next(m for m in mailbox[0].messages if "2026.4.3 regressed" in m["Subject"])
    assert mail["Subject"].startswith("[CRITICAL] Firmware 2026.4.3 regressed in its rollout")
    assert mail["To"] == "access-release-managers@example.com"
    body = mail.get_payload(decode=True).decode()
    assert "/superset/dashboard/firmware-release-health/?native_filters=" in body
    hook = next(h for h in webhook[0] if "2026.4.3 regressed" in h["text"])
    assert "|Open the dashboard>" in hook["text"]

    # A rerun (the same day, or the next with nothing changed) sends nothing.
    assert alerts.run(alerts.RULES_PATH, superset_warehouse, state, delivery) == []
    assert len(mailbox[0].messages) == len(first)

    # The condition ends: one message says so, once.
    rules = yaml.safe_load(alerts.RULES_PATH.read_text())
    for rule in rules["rules"]:
        if rule["name"] == "firmware_rollout_regression":
            rule["query"] += " and firmware_version <> '2026.4.3'"
    quieter = tmp_path / "rules.yml"
    quieter.write_text(yaml.safe_dump(rules))
    resolved = alerts.run(quieter, superset_warehouse, state, delivery)
    assert [(n.kind, n.key) for n in resolved] == [("resolved", PLANTED)]
    assert mailbox[0].messages[-1]["Subject"].startswith("[RESOLVED] Firmware 2026.4.3")
    assert alerts.run(quieter, superset_warehouse, state, delivery) == []


def test_a_change_in_a_watched_column_is_sent_again(
    superset_warehouse, tmp_path, delivery, monkeypatch, no_failed_build
):
    monkeypatch.setattr(alerts, "failed_path", lambda good: no_failed_build)

    def rule(batch: int) -> dict:
        return {
            "name": "batch_watch",
            "severity": "warning",
            "query": f"select table_name as subject, 1 as value, {batch} as batch"
            " from main.build_info where is_telemetry",
            "threshold": {"at_least": 1},
            "title": "{subject}: batch {batch}",
            "message": "batch {batch}",
            "changes_on": ["batch"],
            "dashboard": "telemetry-data-quality",
            "recipients": ["data@example.com"],
        }

    path, state = tmp_path / "rules.yml", tmp_path / "state.json"
    kinds = []
    for batch in (1, 1, 2):
        path.write_text(yaml.safe_dump({"rules": [rule(batch)]}))
        kinds.append(sorted(n.kind for n in alerts.run(path, superset_warehouse, state, delivery)))
    assert kinds == [["firing", "firing"], [], ["changed", "changed"]]


def test_a_failed_build_alerts_with_the_nodes_that_failed(
    superset_warehouse, built_warehouse, tmp_path
):
    good = tmp_path / "warehouse.duckdb"
    failed = failed_path(good)
    failed.parent.mkdir(parents=True)
    shutil.copyfile(built_warehouse.path, failed)
    with duckdb.connect(str(failed)) as con:
        con.execute(
            f"update {BUILD_RECORD_SCHEMA}.dbt_node_results set status = 'error'"
            f" where unique_id = 'model.access_analytics.mart_walkaway_daily'"
            f" and invocation_id = (select invocation_id from {BUILD_RECORD_SCHEMA}.dbt_invocations"
            " order by started_at desc limit 1)"
        )
    (alert,) = [a for a in evaluate(superset_warehouse, failed) if a.rule.name == "build_failed"]
    assert alert.key == "build_failed/dbt build"
    assert "model.access_analytics.mart_walkaway_daily error" in alert.message()
    assert str(failed) in alert.message()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"threshold": {"over": 1}}, "threshold must be one of"),
        ({"severity": "page"}, "severity must be one of critical, warning"),
        ({"colour": "red"}, "unknown keys colour"),
        ({"recipients": ["oncall"]}, "recipients must be a list of e-mail addresses"),
        ({"source": "failed_build"}, "needs exactly one of query and source"),
        ({"dashboard": "no-such-dashboard"}, "no dashboard with slug 'no-such-dashboard'"),
        ({"filters": {"NATIVE_FILTER-nope": "subject"}}, "has no filter NATIVE_FILTER-nope"),
        ({"query": "select 1 as value"}, "query must return columns subject and value"),
        ({"query": "select * from marts.no_such_mart"}, "query failed: Catalog Error"),
        ({"title": "{no_such_column}"}, "title or message: KeyError('no_such_column')"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_a_broken_rule_fails_with_its_name_and_reason(
    superset_warehouse, tmp_path, no_failed_build, change, problem
):
    rule = {
        "name": "broken",
        "severity": "warning",
        "query": "select table_name as subject, 1 as value from main.build_info",
        "threshold": {"at_least": 1},
        "title": "{subject}",
        "message": "{subject}",
        "dashboard": "telemetry-data-quality",
        "recipients": ["data@example.com"],
        **change,
    }
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump({"rules": [rule]}))
    with pytest.raises(alerts.AlertRuleError, match="broken") as failure:
        evaluate(superset_warehouse, no_failed_build, path)
    assert problem in str(failure.value)


def test_alerts_check_is_a_dry_run_that_prints_each_alert(
    superset_warehouse, tmp_path, monkeypatch
):
    state = tmp_path / "state.json"
    monkeypatch.setenv("ACCESS_ALERT_STATE_PATH", str(state))
    result = CliRunner().invoke(app, ["alerts", "check", "--warehouse", str(superset_warehouse)])
    assert result.exit_code == 0, result.output
    assert "[critical] Firmware 2026.4.3 regressed in its rollout (slow unlock)" in result.output
    assert f"({PLANTED}: firing)" in result.output
    assert "message(s) would be sent." in result.output
    assert not state.exists()


def test_send_refuses_without_a_delivery(superset_warehouse, monkeypatch):
    for name in ("ACCESS_ALERT_SMTP_HOST", "ACCESS_ALERT_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["alerts", "send", "--warehouse", str(superset_warehouse)])
    assert result.exit_code == 1
    assert "no delivery configured" in result.output
