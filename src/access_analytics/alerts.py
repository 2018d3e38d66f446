"""Alerts as code: rules over the published marts, sent once per condition.

`alerts/rules.yml` holds the rules (see its header and docs/alerts.md). Evaluating a
rule gives the subjects whose `value` passes its threshold. A state file remembers what
was already sent, so each condition is announced once when it starts, again only when
one of its `changes_on` columns changes, and once when it resolves; rerunning the same
day sends nothing new. Delivery is by e-mail (SMTP) and by a Slack-compatible webhook,
both configured from the environment, never from the repository.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import smtplib
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import duckdb
import requests
import yaml

from access_analytics.build import failed_path
from access_analytics.paths import PROJECT_ROOT
from access_analytics.superset.assets import load_bundle
from access_analytics.superset.settings import DASHBOARDS_DIR
from access_analytics.warehouse import (
    BUILD_RECORD_SCHEMA,
    PublishError,
    build_path,
    read_build_file,
    serving_path,
)

RULES_PATH = PROJECT_ROOT / "alerts" / "rules.yml"
THRESHOLDS = {
    "above": lambda value, limit: value > limit,
    "at_least": lambda value, limit: value >= limit,
    "below": lambda value, limit: value < limit,
}
SEVERITIES = ("critical", "warning")
SOURCES = ("failed_build",)
RULE_KEYS = {
    "name",
    "severity",
    "query",
    "source",
    "threshold",
    "title",
    "message",
    "dashboard",
    "filters",
    "recipients",
    "changes_on",
}


class AlertRuleError(ValueError):
    """A rule is malformed or its query fails; the message names the file and the rule."""


@dataclass(frozen=True)
class Rule:
    name: str
    severity: str
    threshold_op: str
    threshold: float
    title: str
    message: str
    dashboard: str
    recipients: tuple[str, ...]
    query: str | None = None
    source: str | None = None
    filters: dict[str, str] = field(default_factory=dict)
    changes_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Alert:
    """A rule's condition holding for one subject."""

    rule: Rule
    subject: str
    row: dict[str, Any]
    link: str

    @property
    def key(self) -> str:
        return f"{self.rule.name}/{self.subject}"

    @property
    def fingerprint(self) -> str:
        """What makes a held condition worth announcing again: its `changes_on` values."""
        changes = {column: str(self.row.get(column)) for column in self.rule.changes_on}
        return hashlib.sha256(json.dumps(changes, sort_keys=True).encode()).hexdigest()[:16]

    def title(self) -> str:
        return self.rule.title.format(**self.row)

    def message(self) -> str:
        return " ".join(self.rule.message.format(**self.row).split())


@dataclass(frozen=True)
class Notification:
    """One message to send: `kind` is firing, changed or resolved."""

    kind: str
    key: str
    severity: str
    title: str
    text: str
    link: str
    recipients: tuple[str, ...]

    def subject_line(self) -> str:
        prefix = "RESOLVED" if self.kind == "resolved" else self.severity.upper()
        return f"[{prefix}] {self.title}"

    def body(self) -> str:
        return f"{self.text}\n\nDashboard: {self.link}\nAlert: {self.key} ({self.kind})\n"


def load_rules(path: Path = RULES_PATH) -> list[Rule]:
    """The rules of a rules file, checked; AlertRuleError names the file and rule."""
    try:
        content = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise AlertRuleError(f"{path}: cannot be read: {exc}") from exc
    items = content.get("rules") if isinstance(content, dict) else None
    if not isinstance(items, list) or not items:
        raise AlertRuleError(f"{path}: needs a non-empty list `rules`")
    rules: list[Rule] = []
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        where = f"{path}: rules[{index}] ({name or 'no name'})"
        if not isinstance(item, dict) or not name:
            raise AlertRuleError(f"{where}: every rule needs a name")
        rules.append(_rule(item, where))
    names = [rule.name for rule in rules]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise AlertRuleError(f"{path}: rule names must be unique: {', '.join(duplicates)}")
    return rules


def _rule(item: dict[str, Any], where: str) -> Rule:
    unknown = sorted(set(item) - RULE_KEYS)
    if unknown:
        raise AlertRuleError(f"{where}: unknown keys {', '.join(unknown)}")
    missing = [
        k for k in ("severity", "threshold", "title", "message", "dashboard") if k not in item
    ]
    if missing:
        raise AlertRuleError(f"{where}: missing {', '.join(missing)}")
    if item["severity"] not in SEVERITIES:
        raise AlertRuleError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    if bool(item.get("query")) == bool(item.get("source")):
        raise AlertRuleError(f"{where}: needs exactly one of query and source")
    if item.get("source") and item["source"] not in SOURCES:
        raise AlertRuleError(f"{where}: source must be one of {', '.join(SOURCES)}")
    threshold = item["threshold"]
    if not (
        isinstance(threshold, dict) and len(threshold) == 1 and set(threshold) <= set(THRESHOLDS)
    ):
        raise AlertRuleError(f"{where}: threshold must be one of {{above|at_least|below: number}}")
    ((op, limit),) = threshold.items()
    recipients = item.get("recipients") or []
    if not recipients or not all(isinstance(r, str) and "@" in r for r in recipients):
        raise AlertRuleError(f"{where}: recipients must be a list of e-mail addresses")
    return Rule(
        name=item["name"],
        severity=item["severity"],
        threshold_op=op,
        threshold=float(limit),
        title=item["title"],
        message=item["message"],
        dashboard=item["dashboard"],
        recipients=tuple(recipients),
        query=item.get("query"),
        source=item.get("source"),
        filters=dict(item.get("filters") or {}),
        changes_on=tuple(item.get("changes_on") or ()),
    )


# --- evaluation ---------------------------------------------------------------------


def superset_url() -> str:
    return os.environ.get("ACCESS_SUPERSET_URL", "http://localhost:8088").rstrip("/")


def _rison(value: Any) -> str:
    """Rison, the URL notation Superset reads its `native_filters` parameter in."""
    if isinstance(value, dict):
        return "(" + ",".join(f"{_rison(k)}:{_rison(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list):
        return "!(" + ",".join(_rison(v) for v in value) + ")"
    if isinstance(value, bool):
        return "!t" if value else "!f"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if (
        text
        and all(c.isalnum() or c in "-_./~" for c in text)
        and not text[0].isdigit()
        and text[0] not in "-"
    ):
        return text
    return "'" + text.replace("!", "!!").replace("'", "!'") + "'"


def dashboard_filters(dashboards: Path = DASHBOARDS_DIR) -> dict[str, dict[str, str]]:
    """Each dashboard's slug with its native filters: filter id to the column it filters."""
    return {
        content["slug"]: {
            flt["id"]: flt["targets"][0]["column"]["name"]
            for flt in content["metadata"].get("native_filter_configuration", [])
            if flt.get("targets") and "column" in flt["targets"][0]
        }
        for content in load_bundle(dashboards).of("dashboards").values()
    }


def check_links(rules: Iterable[Rule], dashboards: dict[str, dict[str, str]]) -> None:
    """Every rule names an existing dashboard and filters of that dashboard."""
    for rule in rules:
        if rule.dashboard not in dashboards:
            raise AlertRuleError(f"rule {rule.name}: no dashboard with slug '{rule.dashboard}'")
        unknown = sorted(set(rule.filters) - set(dashboards[rule.dashboard]))
        if unknown:
            raise AlertRuleError(
                f"rule {rule.name}: dashboard '{rule.dashboard}' has no filter {', '.join(unknown)}"
            )


def dashboard_link(rule: Rule, row: dict[str, Any], filter_columns: dict[str, str]) -> str:
    """The dashboard that shows the problem, its filters set to the alert's subject."""
    url = f"{superset_url()}/superset/dashboard/{rule.dashboard}/"
    if not rule.filters:
        return url
    native = {}
    for filter_id, column in rule.filters.items():
        value = str(row[column])
        filter_column = filter_columns[filter_id]
        native[filter_id] = {
            "id": filter_id,
            "extraFormData": {"filters": [{"col": filter_column, "op": "IN", "val": [value]}]},
            "filterState": {"value": [value]},
        }
    return f"{url}?native_filters={urllib.parse.quote(_rison(native), safe='')}"


def _query_rows(con: duckdb.DuckDBPyConnection, rule: Rule) -> list[dict[str, Any]]:
    try:
        cursor = con.execute(rule.query)
    except duckdb.Error as exc:
        first_line = str(exc).splitlines()[0]
        raise AlertRuleError(f"rule {rule.name}: query failed: {first_line}") from exc
    names = [column[0] for column in cursor.description]
    if not {"subject", "value"} <= set(names):
        raise AlertRuleError(f"rule {rule.name}: query must return columns subject and value")
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _failed_build_rows(failed: Path) -> list[dict[str, Any]]:
    """The failed build kept beside the last good one, if the newest build failed."""
    if not failed.exists():
        return []
    invocation, started = "unknown", "unknown"
    try:
        record, _nodes = read_build_file(failed)
    except PublishError as exc:  # unreadable: that is the failure to report
        failures = str(exc).removeprefix(f"{failed}: ")
    else:
        if record is None:
            failures = f"no build record (schema {BUILD_RECORD_SCHEMA})"
        elif (refusal := record.refusal()) is None:
            return []  # a passing build left behind is not a failure
        else:
            invocation, started = record.invocation_id, record.started_at
            failures = refusal
            if record.failed_nodes:
                failures = ", ".join(
                    f"{node} {status}" for node, status in record.failed_nodes[:10]
                )
    return [
        {
            "subject": "dbt build",
            "value": 1,
            "invocation_id": invocation,
            "started_at": started,
            "failures": failures,
            "path": str(failed),
        }
    ]


def evaluate(
    rules: Iterable[Rule],
    warehouse: Path | None = None,
    failed_build: Path | None = None,
    as_of: dt.date | None = None,
) -> list[Alert]:
    """Every alert whose condition holds on the warehouse (default: the published one).

    Queries read the day they are evaluated for as `getvariable('as_of')`: today (UTC)
    unless `as_of` says otherwise, as for a backfill of past days.
    """
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    warehouse = warehouse or serving_path()
    failed_build = failed_build or failed_path(build_path())
    if not warehouse.exists():
        raise AlertRuleError(f"{warehouse}: no such warehouse (publish a build first)")
    rules = list(rules)
    filters = dashboard_filters()
    check_links(rules, filters)
    alerts: list[Alert] = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set variable as_of = ?", [as_of])
        for rule in rules:
            rows = _query_rows(con, rule) if rule.query else _failed_build_rows(failed_build)
            compare = THRESHOLDS[rule.threshold_op]
            for row in rows:
                if row["value"] is None or not compare(row["value"], rule.threshold):
                    continue
                row = {**row, "subject": str(row["subject"])}
                try:
                    link = dashboard_link(rule, row, filters[rule.dashboard])
                    alert = Alert(rule, row["subject"], row, link)
                    alert.title(), alert.message()
                except (KeyError, ValueError) as exc:
                    raise AlertRuleError(f"rule {rule.name}: title or message: {exc!r}") from exc
                alerts.append(alert)
    return alerts


# --- state: what was sent -----------------------------------------------------------


def state_path() -> Path:
    default = PROJECT_ROOT / "var" / "alerts" / "state.json"
    return Path(os.environ.get("ACCESS_ALERT_STATE_PATH", default))


def read_state(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def changes(alerts: list[Alert], state: dict[str, dict[str, Any]]) -> list[Notification]:
    """What to send: conditions that started or changed, and those that resolved."""
    notifications: list[Notification] = []
    held = {alert.key for alert in alerts}
    for alert in alerts:
        sent = state.get(alert.key)
        if sent is not None and sent.get("fingerprint") == alert.fingerprint:
            continue
        notifications.append(
            Notification(
                kind="firing" if sent is None else "changed",
                key=alert.key,
                severity=alert.rule.severity,
                title=alert.title(),
                text=alert.message(),
                link=alert.link,
                recipients=alert.rule.recipients,
            )
        )
    for key, sent in sorted(state.items()):
        if key not in held:
            notifications.append(
                Notification(
                    kind="resolved",
                    key=key,
                    severity=sent["severity"],
                    title=sent["title"],
                    text=f"Resolved: {sent['title']} no longer holds.",
                    link=sent["link"],
                    recipients=tuple(sent["recipients"]),
                )
            )
    return notifications


def next_state(alerts: list[Alert]) -> dict[str, dict[str, Any]]:
    return {
        alert.key: {
            "fingerprint": alert.fingerprint,
            "severity": alert.rule.severity,
            "title": alert.title(),
            "link": alert.link,
            "recipients": list(alert.rule.recipients),
            "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        for alert in alerts
    }


def write_state(path: Path, state: dict[str, dict[str, Any]], previous: dict[str, Any]) -> None:
    """Keep `since` of conditions that were already held; write atomically."""
    for key, entry in state.items():
        if key in previous and "since" in previous[key]:
            entry["since"] = previous[key]["since"]
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    partial.replace(path)


# --- delivery -----------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """Where alerts go, from the environment: SMTP and/or a Slack-compatible webhook."""

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    sender: str = "access-analytics@localhost"
    webhook_url: str | None = None

    @classmethod
    def from_env(cls) -> Delivery:
        env = os.environ
        return cls(
            smtp_host=env.get("ACCESS_ALERT_SMTP_HOST") or None,
            smtp_port=int(env.get("ACCESS_ALERT_SMTP_PORT", "25")),
            smtp_user=env.get("ACCESS_ALERT_SMTP_USER") or None,
            smtp_password=env.get("ACCESS_ALERT_SMTP_PASSWORD") or None,
            smtp_starttls=env.get("ACCESS_ALERT_SMTP_STARTTLS", "").lower() in {"1", "true"},
            sender=env.get("ACCESS_ALERT_FROM", cls.sender),
            webhook_url=env.get("ACCESS_ALERT_WEBHOOK_URL") or None,
        )

    def configured(self) -> bool:
        return bool(self.smtp_host or self.webhook_url)

    def send(self, notifications: list[Notification]) -> None:
        """Send every notification; raise on the first failure (nothing is marked sent)."""
        for notification in notifications:
            if self.smtp_host:
                self._email(notification)
            if self.webhook_url:
                self._webhook(notification)

    def _email(self, notification: Notification) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(notification.recipients)
        message["Subject"] = notification.subject_line()
        message.set_content(notification.body())
        with smtplib.SMTP(self.smtp_host or "", self.smtp_port, timeout=30) as smtp:
            if self.smtp_starttls:
                smtp.starttls()
            if self.smtp_user:
                smtp.login(self.smtp_user, self.smtp_password or "")
            smtp.send_message(message)

    def _webhook(self, notification: Notification) -> None:
        text = (
            f"*{notification.subject_line()}*\n{notification.text}\n"
            f"<{notification.link}|Open the dashboard>"
        )
        response = requests.post(self.webhook_url or "", json={"text": text}, timeout=30)
        response.raise_for_status()


def run(
    rules_file: Path = RULES_PATH,
    warehouse: Path | None = None,
    state_file: Path | None = None,
    delivery: Delivery | None = None,
    as_of: dt.date | None = None,
) -> list[Notification]:
    """Evaluate, send what is new, then record it as sent; returns what was sent."""
    state_file = state_file or state_path()
    delivery = delivery or Delivery.from_env()
    if not delivery.configured():
        raise AlertRuleError(
            "no delivery configured: set ACCESS_ALERT_SMTP_HOST and/or ACCESS_ALERT_WEBHOOK_URL"
        )
    alerts = evaluate(load_rules(rules_file), warehouse, as_of=as_of)
    previous = read_state(state_file)
    notifications = changes(alerts, previous)
    delivery.send(notifications)
    write_state(state_file, next_state(alerts), previous)
    return notifications
