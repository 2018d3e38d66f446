"""The shipped security files: Trino rules that let Superset only read the marts, and
Superset roles that let a dashboard viewer read every dataset the dashboards show."""

from __future__ import annotations

import json
import re
from typing import Any

from access_analytics.superset import settings
from access_analytics.superset.assets import load_bundle
from access_analytics.superset.security import grants, load_roles

TRINO_RULES = settings.REPO_ROOT / "security" / "trino-access-control.json"


def first_match(rules: list[dict[str, Any]], **identity: str) -> dict[str, Any]:
    """Trino's matching: the first rule whose patterns all fully match wins."""
    for rule in rules:
        if all(re.fullmatch(str(rule.get(key, ".*")), value) for key, value in identity.items()):
            return rule
    raise AssertionError(f"no rule matches {identity}")


def test_the_trino_rules_let_superset_only_select_on_the_marts():
    rules = json.loads(TRINO_RULES.read_text())
    tables = rules["tables"]
    who = {"user": "superset", "catalog": "lake"}
    assert first_match(tables, **who, schema="marts")["privileges"] == ["SELECT"]
    for schema in ("staging", "intermediate", "restricted", "raw"):
        assert first_match(tables, **who, schema=schema)["privileges"] == []
    assert first_match(tables, user="superset", catalog="hive", schema="raw")["privileges"] == []
    catalogs = rules["catalogs"]
    assert first_match(catalogs, user="superset", catalog="lake")["allow"] == "read-only"
    assert first_match(catalogs, user="superset", catalog="hive")["allow"] == "none"
    for kind in ("system_session_properties", "catalog_session_properties"):
        assert first_match(rules[kind], user="superset")["allow"] is False
    assert first_match(rules["queries"], user="superset")["allow"] == ["execute"]
    # Anyone not named gets nothing.
    assert first_match(tables, user="someone", catalog="lake", schema="marts")["privileges"] == []
    assert first_match(catalogs, user="someone", catalog="lake")["allow"] == "none"


def test_a_fleet_viewer_may_read_every_dataset_a_dashboard_shows():
    bundle = load_bundle(settings.DASHBOARDS_DIR)
    datasets = {uuid: d["table_name"] for uuid, (_, d) in bundle.by_uuid("datasets").items()}
    shown = {datasets[str(chart["dataset_uuid"])] for chart in bundle.of("charts").values()}
    granted = grants(load_roles(), "Fleet Viewer")["datasets"]
    assert shown - granted == set(), "add them to Fleet Viewer in security/roles.yml"
