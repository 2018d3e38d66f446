"""Import, export and query dashboards in a running Superset."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from access_analytics.superset.assets import (
    Bundle,
    bundle_zip,
    load_bundle,
    normalize_export,
    param_columns,
    read_export_zip,
)
from access_analytics.superset.client import SupersetClient


def import_dashboards(client: SupersetClient, directory: Path, database_uri: str) -> Bundle:
    """Validate the folder, then import it in one request (all or nothing)."""
    bundle = load_bundle(directory)
    client.import_assets(bundle_zip(bundle, database_uri))
    return bundle


def export_dashboards(client: SupersetClient) -> dict[str, str]:
    """Every dashboard of the Superset, normalized to the files kept in git."""
    ids = [row["id"] for row in client.list_all("dashboard", ["id"])]
    if not ids:
        return {}
    return normalize_export(read_export_zip(client.export_dashboards(ids)))


# --- chart data queries -------------------------------------------------------------


def _default_filters(
    dashboard: dict[str, Any], dataset_columns: set[str], chart_number: int
) -> list[dict]:
    """The native filters' default values that apply to one chart of the dashboard."""
    filters = []
    for flt in dashboard["metadata"].get("native_filter_configuration", []):
        if chart_number in flt.get("scope", {}).get("excluded", []):
            continue
        value = (flt.get("defaultDataMask") or {}).get("filterState", {}).get("value")
        for target in flt.get("targets", []):
            column = (target.get("column") or {}).get("name")
            if column in dataset_columns and value:
                filters.append({"col": column, "op": "IN", "val": list(value)})
    return filters


def _adhoc_to_filters(params: dict[str, Any]) -> tuple[list[dict], str, dict[str, str]]:
    """Simple filters, the time range, and SQL filters as `extras` (where, having)."""
    filters, time_range = [], "No filter"
    clauses: dict[str, list[str]] = {"where": [], "having": []}
    for flt in params.get("adhoc_filters", []):
        if flt.get("expressionType") == "SQL":
            clauses[flt.get("clause", "WHERE").lower()].append(f"({flt['sqlExpression']})")
            continue
        if flt.get("operator") == "TEMPORAL_RANGE":
            time_range = flt.get("comparator") or time_range
            continue
        op = {"==": "==", "!=": "!=", "IN": "IN", "NOT IN": "NOT IN"}.get(flt["operator"])
        if op is None:
            continue
        filters.append({"col": flt["subject"], "op": op, "val": flt.get("comparator")})
    extras = {clause: " AND ".join(sql) for clause, sql in clauses.items()}
    return filters, time_range, extras


def query_payload(
    chart: dict[str, Any], dataset_id: int, extra_filters: list[dict[str, Any]]
) -> dict[str, Any]:
    """A /api/v1/chart/data request equivalent to the chart's query."""
    params = chart["params"]
    filters, time_range, extras = _adhoc_to_filters(params)
    metrics = params.get("metrics") or [m for m in [params.get("metric")] if m]
    columns: list[Any] = []
    if params.get("x_axis"):
        columns.append(
            {
                "columnType": "BASE_AXIS",
                "sqlExpression": params["x_axis"],
                "label": params["x_axis"],
                "expressionType": "SQL",
                "timeGrain": params.get("time_grain_sqla") or "P1D",
            }
        )
    columns += list(params.get("groupby") or [])
    query: dict[str, Any] = {
        "filters": filters + extra_filters,
        "extras": extras,
        "time_range": time_range,
        "row_limit": params.get("row_limit") or 1000,
        "orderby": [],
    }
    if params.get("query_mode") == "raw":
        query["columns"] = list(params.get("all_columns") or [])
        query["metrics"] = []
    elif chart["viz_type"] == "gantt_chart":
        # one row per bar: its start, end, row and colour, with the tooltip's columns
        bar = ["start_time", "end_time", "y_axis", "series", "tooltip_columns"]
        columns = [column for key in bar for column in param_columns(params.get(key))]
        query["columns"] = list(dict.fromkeys(columns))
        query["metrics"] = list(params.get("tooltip_metrics") or [])
    else:
        query["columns"] = columns
        query["metrics"] = metrics
    return {
        "datasource": {"id": dataset_id, "type": "table"},
        "force": True,
        "queries": [query],
        "result_format": "json",
        "result_type": "full",
    }


@dataclass
class ChartQuery:
    dashboard: str
    chart: str
    payload: dict[str, Any]


def chart_queries(client: SupersetClient, bundle: Bundle) -> list[ChartQuery]:
    """One query per chart of every dashboard, with the dashboard's default filters."""
    dataset_ids = {
        str(row["uuid"]): row["id"] for row in client.list_all("dataset", ["id", "uuid"])
    }
    datasets = bundle.by_uuid("datasets")
    charts = bundle.by_uuid("charts")
    queries = []
    for dashboard in bundle.of("dashboards").values():
        for node in dashboard["position"].values():
            if not isinstance(node, dict) or node.get("type") != "CHART":
                continue
            _, chart = charts[str(node["meta"]["uuid"])]
            _, dataset = datasets[str(chart["dataset_uuid"])]
            columns = {c["column_name"] for c in dataset["columns"]}
            extra = _default_filters(dashboard, columns, node["meta"]["chartId"])
            payload = query_payload(chart, dataset_ids[str(chart["dataset_uuid"])], extra)
            queries.append(ChartQuery(dashboard["dashboard_title"], chart["slice_name"], payload))
    return queries


def benchmark(client: SupersetClient, bundle: Bundle, rounds: int = 5) -> dict[str, Any]:
    """Latency of every chart's data query (cache bypassed), p50 and p95 overall."""
    timings: dict[str, list[float]] = {}
    queries = chart_queries(client, bundle)
    for _ in range(rounds):
        for query in queries:
            start = time.perf_counter()
            response = client.chart_data(query.payload)
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{query.chart}: HTTP {response.status_code} {response.text}")
            timings.setdefault(f"{query.dashboard} / {query.chart}", []).append(elapsed)
    every = sorted(t for values in timings.values() for t in values)
    return {
        "charts": len(queries),
        "calls": len(every),
        "p50_ms": statistics.median(every),
        "p95_ms": every[max(0, round(0.95 * len(every)) - 1)],
        "slowest": sorted(
            ((name, statistics.median(v)) for name, v in timings.items()),
            key=lambda item: -item[1],
        )[:5],
    }
