"""`access-analytics dashboards check`, sync and the export normalizer, offline."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from access_analytics.superset import settings
from access_analytics.superset.assets import (
    AssetError,
    bundle_zip,
    load_bundle,
    normalize_export,
    read_tree,
)
from access_analytics.superset.check import build_freshness_columns, run_check
from access_analytics.superset.cli import dashboards_app


@pytest.fixture(scope="session")
def manifest(tmp_path_factory) -> Path:
    """The dbt manifest of the project as it is now (dbt parse, no warehouse needed)."""
    target = tmp_path_factory.mktemp("dbt_target")
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "parse",
            "--profiles-dir",
            ".",
            "--target",
            "duckdb",
            "--target-path",
            str(target),
        ],
        cwd=settings.REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ACCESS_PSEUDONYM_KEY": "demo-pseudonym-key"},
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return target / "manifest.json"


@pytest.fixture
def copy(tmp_path) -> Path:
    """A scratch copy of dashboards/ and of the exposures file."""
    shutil.copytree(settings.DASHBOARDS_DIR, tmp_path / "dashboards")
    shutil.copy(settings.EXPOSURES_FILE, tmp_path / "exposures.yml")
    return tmp_path


def edit_manifest(manifest: Path, tmp_path: Path, change) -> Path:
    data = json.loads(manifest.read_text())
    change(data["nodes"])
    broken = tmp_path / "manifest.json"
    broken.write_text(json.dumps(data))
    return broken


def check(copy: Path, manifest: Path) -> list[str]:
    return run_check(copy / "dashboards", manifest, copy / "exposures.yml")


def rename_column(model: str, column: str, new_name: str):
    """A manifest edit: the model's column gets another name."""

    def rename(nodes):
        node = next(n for n in nodes.values() if n["name"] == model)
        node["columns"][new_name] = node["columns"].pop(column)

    return rename


def drop_model(model: str):
    """A manifest edit: the model is gone."""

    def drop(nodes):
        del nodes[next(k for k, n in nodes.items() if n["name"] == model)]

    return drop


def test_the_dashboards_match_the_dbt_marts_and_exposures(manifest):
    assert run_check(settings.DASHBOARDS_DIR, manifest, settings.EXPOSURES_FILE) == []


def test_one_exposure_per_dashboard_depends_on_its_marts(manifest):
    exposures = yaml.safe_load(settings.EXPOSURES_FILE.read_text())["exposures"]
    dashboards = load_bundle(settings.DASHBOARDS_DIR).of("dashboards")
    assert len(exposures) == len(dashboards) == 5
    nodes = json.loads(manifest.read_text())["exposures"]
    for exposure in nodes.values():
        assert exposure["depends_on"]["nodes"], exposure["name"]
        assert all(n.startswith("model.") for n in exposure["depends_on"]["nodes"])


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            rename_column("mart_unlock_daily_by_slice", "latency_p95_ms", "latency_p95"),
            "datasets/access_warehouse/mart_unlock_daily_by_slice.yaml: columns: "
            "'latency_p95_ms' is not a column of mart_unlock_daily_by_slice",
        ),
        (
            drop_model("mart_card_taps_daily_by_slice"),
            "datasets/access_warehouse/mart_card_taps_daily_by_slice.yaml: table_name: "
            "'mart_card_taps_daily_by_slice' is not a model of the marts schema",
        ),
    ],
    ids=["renamed-column", "missing-mart"],
)
def test_a_changed_mart_fails_with_the_dataset(manifest, copy, tmp_path, edit, problem):
    assert problem in check(copy, edit_manifest(manifest, tmp_path, edit))


def test_the_cli_fails_on_a_broken_copy_with_a_clear_message(manifest, copy, tmp_path):
    rename = rename_column("mart_walkaway_daily_by_slice", "locked", "reliability")
    broken = edit_manifest(manifest, tmp_path, rename)
    result = CliRunner().invoke(
        dashboards_app,
        [
            "check",
            "--dir",
            str(copy / "dashboards"),
            "--manifest",
            str(broken),
            "--exposures",
            str(copy / "exposures.yml"),
        ],
    )
    assert result.exit_code == 1
    assert "'locked' is not a column of mart_walkaway_daily_by_slice" in result.output
    assert "metrics.walkaway_reliability: column 'locked' does not exist" not in result.output


def test_a_chart_using_an_unknown_metric_or_column_fails(manifest, copy):
    charts = copy / "dashboards" / "charts"
    path = charts / "unlock_latency_percentiles_per_day.yaml"
    chart = yaml.safe_load(path.read_text())
    chart["params"]["metrics"].append("latency_p42_ms")
    chart["params"]["groupby"] = ["trim_level"]
    path.write_text(yaml.safe_dump(chart))
    problems = check(copy, manifest)
    name = "charts/unlock_latency_percentiles_per_day.yaml"
    assert f"{name}: params.metrics: metric 'latency_p42_ms' does not exist" in problems
    assert f"{name}: params.groupby: column 'trim_level' does not exist" in problems


def test_a_filter_on_an_unknown_column_fails(manifest, copy):
    path = copy / "dashboards" / "dashboards" / "walk_away_lock_reliability.yaml"
    dashboard = yaml.safe_load(path.read_text())
    flt = next(
        f for f in dashboard["metadata"]["native_filter_configuration"] if f["name"] == "Region"
    )
    flt["targets"][0]["column"]["name"] = "market"
    path.write_text(yaml.safe_dump(dashboard))
    assert (
        "dashboards/walk_away_lock_reliability.yaml: native filter 'Region': "
        "column 'market' does not exist"
    ) in check(copy, manifest)


def test_a_metric_that_is_more_than_sums_and_ratios_fails(manifest, copy):
    path = copy / "dashboards" / "datasets" / "access_warehouse" / "mart_unlock_daily_by_slice.yaml"
    dataset = yaml.safe_load(path.read_text())
    metric = next(m for m in dataset["metrics"] if m["metric_name"] == "latency_p95_ms")
    metric["expression"] = "AVG(latency_p95_ms)"
    path.write_text(yaml.safe_dump(dataset))
    problems = check(copy, manifest)
    assert any("metrics.latency_p95_ms: function 'avg' is not allowed" in p for p in problems)


FRESHNESS = Path("datasets") / "access_warehouse" / "build_freshness.yaml"


def test_the_freshness_dataset_declares_the_columns_of_the_view_publishing_writes():
    dataset = load_bundle(settings.DASHBOARDS_DIR).files[FRESHNESS.as_posix()]
    returned = build_freshness_columns()
    assert (dataset["schema"], dataset["table_name"]) == ("main", "build_freshness")
    assert not dataset["sql"]
    assert sorted(returned) == sorted(c["column_name"] for c in dataset["columns"])
    assert {"freshness", "is_stale", "newest_event_date", "test_result"} <= set(returned)


def _drop_column(name):
    def edit(dataset):
        dataset["columns"] = [c for c in dataset["columns"] if c["column_name"] != name]

    return edit


def _add_column(name):
    def edit(dataset):
        dataset["columns"].append({**dataset["columns"][0], "column_name": name})

    return edit


def _make_sql_dataset(dataset):
    dataset["sql"] = "select * from main.build_info"


def _move_to_marts(dataset):
    dataset["schema"] = "marts"


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            _drop_column("rows_quarantined_newest_day"),
            "columns: 'rows_quarantined_newest_day' of build_freshness is not declared",
        ),
        (
            _add_column("tests_skipped"),
            "columns: 'tests_skipped' is not a column of build_freshness",
        ),
        (_make_sql_dataset, "sql: a SQL dataset is not served"),
        (_move_to_marts, "table_name: 'build_freshness' is not a model of the marts schema"),
    ],
    ids=["column-not-declared", "column-not-in-view", "sql-dataset", "wrong-schema"],
)
def test_a_freshness_dataset_that_is_not_the_view_fails(manifest, copy, edit, problem):
    path = copy / "dashboards" / FRESHNESS
    dataset = yaml.safe_load(path.read_text())
    edit(dataset)
    path.write_text(yaml.safe_dump(dataset))
    assert f"{FRESHNESS.as_posix()}: {problem}" in "\n".join(check(copy, manifest))


def test_the_freshness_strip_is_no_exposure_dependency(manifest):
    """The strip reads main.build_freshness, which publishing writes: no dbt model."""
    exposures = yaml.safe_load(settings.EXPOSURES_FILE.read_text())["exposures"]
    assert all("build_freshness" not in str(e["depends_on"]) for e in exposures)
    for dashboard in load_bundle(settings.DASHBOARDS_DIR).of("dashboards").values():
        top_row = dashboard["position"]["GRID_ID"]["children"][0]
        (chart,) = dashboard["position"][top_row]["children"]
        assert chart == "CHART-data_freshness_and_build", dashboard["dashboard_title"]


# --- presentation: labels, units, axes, legends, colours ------------------------------

UNLOCK_DATASET = "datasets/access_warehouse/mart_unlock_daily_by_slice.yaml"
FIRMWARE_TABLE = "charts/every_release_against_its_predecessor_status_flags_regressions.yaml"
BAND_MIX = "charts/health_band_mix_by_cell_lot.yaml"
ROLLOUT_DATASET = "datasets/access_warehouse/mart_firmware_rollout_monitor.yaml"
ROLLOUT_P_VALUES = "charts/rollout_p_values_of_the_chosen_release_log_scale.yaml"


def edit_yaml(copy: Path, relative: str, change) -> None:
    """Break the copy: `change` mutates the parsed dashboards/ file."""
    path = copy / "dashboards" / relative
    content = yaml.safe_load(path.read_text())
    change(content)
    path.write_text(yaml.safe_dump(content))


def set_metric(name: str, **values):
    def change(dataset):
        next(m for m in dataset["metrics"] if m["metric_name"] == name).update(values)

    return change


def set_column(name: str, **values):
    def change(dataset):
        next(c for c in dataset["columns"] if c["column_name"] == name).update(values)

    return change


def set_params(**values):
    def change(chart):
        chart["params"].update(values)

    return change


def set_format(column: str, fmt: str | None):
    def change(chart):
        chart["params"]["column_config"][column] = {"d3NumberFormat": fmt} if fmt else {}

    return change


def set_value_color(value: str, color: str):
    def change(chart):
        rule = next(
            r for r in chart["params"]["conditional_formatting"] if r["targetValue"] == value
        )
        rule["colorScheme"] = color

    return change


def set_label_color(label: str, color: str):
    def change(dashboard):
        dashboard["metadata"]["label_colors"][label] = color

    return change


def _cases(ids: list[str], cases: list[tuple]) -> list:
    """Parametrize cases (path, change, expected problem) with their ids."""
    return [pytest.param(*case, id=id_) for id_, case in zip(ids, cases, strict=True)]


# The check must fail, naming file, key and rule: every number has a label and a unit.
LABEL_AND_UNIT_CASES = _cases(
    [
        "metric-label",
        "column-label",
        "metric-unit",
        "three-decimals",
        "table-column-format",
        "chart-format-unit",
        "big-number-unit",
        "p-value-axis",
        "timeline-bar-label",
    ],
    [
        (
            UNLOCK_DATASET,
            set_metric("attempts", verbose_name=None),
            f"{UNLOCK_DATASET}: metrics.attempts: no verbose_name",
        ),
        (
            UNLOCK_DATASET,
            set_column("radio", verbose_name=None),
            f"{UNLOCK_DATASET}: columns.radio: no verbose_name, yet charts show it",
        ),
        (
            UNLOCK_DATASET,
            set_metric("latency_p95_ms", verbose_name="p95 unlock latency"),
            f"{UNLOCK_DATASET}: metrics.latency_p95_ms.d3format: neither the format ',.0f' "
            "nor the label 'p95 unlock latency' carries a unit",
        ),
        (
            UNLOCK_DATASET,
            set_metric("unlock_success_rate", d3format=".3%"),
            f"{UNLOCK_DATASET}: metrics.unlock_success_rate.d3format: number format '.3%' "
            "must be fixed point with at most two decimals",
        ),
        (
            "charts/fobs_at_risk_watch_replace_soon_replace_now.yaml",
            set_format("drain_mv_per_day", None),
            "charts/fobs_at_risk_watch_replace_soon_replace_now.yaml: "
            "params.column_config.drain_mv_per_day: no number format",
        ),
        (
            "charts/unlock_success_rate_week.yaml",
            set_params(y_axis_format=",d"),
            "charts/unlock_success_rate_week.yaml: params.y_axis_format: ',d' does not show "
            "the unit of 'unlock_success_rate'",
        ),
        (
            "charts/p95_unlock_latency_day.yaml",
            set_params(show_metric_name=False),
            "charts/p95_unlock_latency_day.yaml: params.show_metric_name: the unit of "
            "'latency_p95_ms' is only in its label",
        ),
        (
            ROLLOUT_P_VALUES,
            set_params(y_axis_format=".2f"),
            f"{ROLLOUT_P_VALUES}: params.y_axis_format: p-value format '.2f' must show three "
            "significant figures",
        ),
        (
            ROLLOUT_DATASET,
            set_column("next_day", verbose_name=None),
            f"{ROLLOUT_DATASET}: columns.next_day: no verbose_name, yet charts show it",
        ),
    ],
)


# The check must fail, naming file, key and rule: titles, legends and headers read as plain words.
PLAIN_WORDS_CASES = _cases(
    [
        "title",
        "legend",
        "table-header",
        "grouped-series",
        "labelled-metric-drift",
        "metric-label-hidden-by-column",
    ],
    [
        (
            "charts/unlock_attempts_by_model_and_region.yaml",
            lambda chart: chart.update(slice_name="unlock_attempts by model"),
            "charts/unlock_attempts_by_model_and_region.yaml: slice_name: "
            "'unlock_attempts by model' reads as internal wording",
        ),
        (
            UNLOCK_DATASET,
            set_metric("latency_p95_ms", verbose_name="p95 latency (ms) (slice-day row)"),
            f"{UNLOCK_DATASET}: metrics.latency_p95_ms.verbose_name: "
            "'p95 latency (ms) (slice-day row)' reads as internal wording",
        ),
        (
            UNLOCK_DATASET,
            set_column("key_type", verbose_name="key_type"),
            f"{UNLOCK_DATASET}: columns.key_type.verbose_name: 'key_type' reads as internal",
        ),
        (
            "charts/success_and_handle_wait_rate_by_key_type_and_radio.yaml",
            set_params(metrics=["unlock_success_rate", "handle_wait_rate"]),
            "charts/success_and_handle_wait_rate_by_key_type_and_radio.yaml: params.metrics: "
            "'unlock_success_rate' would name grouped series by its metric name",
        ),
        (
            "charts/late_arrivals_per_ingest_day_share_of_kept_rows.yaml",
            lambda chart: chart["params"]["metrics"][0].update(
                sqlExpression="SUM(late_1h_share) * 100"
            ),
            "charts/late_arrivals_per_ingest_day_share_of_kept_rows.yaml: params.metrics: "
            "'Over 1 h late' must repeat the expression of a dataset metric",
        ),
        (
            "datasets/access_warehouse/mart_firmware_release_health.yaml",
            set_metric("reliability_new", verbose_name="New release"),
            "datasets/access_warehouse/mart_firmware_release_health.yaml: "
            "metrics.reliability_new.verbose_name: 'New release' differs from the label of "
            "the column of that name",
        ),
    ],
)


RATE_CHART = "charts/unlock_success_rate_and_95_interval_per_day.yaml"


@pytest.mark.parametrize(
    "params",
    [{"truncateYAxis": False}, {"y_axis_bounds": [0, 1.2]}],
    ids=["axis-from-zero-auto-max", "axis-to-120-percent"],
)
def test_a_rate_axis_is_0_to_100_percent_or_auto_ranged(manifest, copy, params):
    edit_yaml(copy, RATE_CHART, set_params(**params))
    assert f"{RATE_CHART}: params.y_axis_bounds: a rate needs a 0-100% axis" in "\n".join(
        check(copy, manifest)
    )


def test_a_p_value_shows_three_significant_figures(manifest, copy):
    edit_yaml(copy, FIRMWARE_TABLE, set_format("success_p_value", ".2f"))
    assert (
        f"{FIRMWARE_TABLE}: params.column_config.success_p_value: p-value format '.2f' "
        "must show three significant figures ('.3~g')"
    ) in check(copy, manifest)


@pytest.mark.parametrize(
    ("path", "params", "problem"),
    [
        (
            "charts/unlock_latency_percentiles_per_day.yaml",
            {"legendType": "scroll"},
            "charts/unlock_latency_percentiles_per_day.yaml: params.legendType: 3 series fit "
            "a plain legend",
        ),
        (
            "charts/quarantined_rows_per_ingest_day_by_reason.yaml",
            {"legendType": "scroll"},
            "charts/quarantined_rows_per_ingest_day_by_reason.yaml: params.legendType: "
            "6 series fit a plain legend",
        ),
        (
            BAND_MIX,
            {"xAxisLabelInterval": "auto"},
            f"{BAND_MIX}: params.xAxisLabelInterval: every category needs its label",
        ),
    ],
    ids=["paged-legend", "paged-legend-of-grouped-series", "skipped-category-label"],
)
def test_legends_and_category_labels_are_readable(manifest, copy, path, params, problem):
    edit_yaml(copy, path, set_params(**params))
    assert any(p.startswith(problem) for p in check(copy, manifest)), problem


# The check must fail, naming file, key and rule: colours mean the same on every dashboard.
COLOUR_CASES = _cases(
    [
        "band-order",
        "band-labels-sort",
        "band-colour",
        "shared-colours",
        "status-colour",
        "rollout-status-colour",
    ],
    [
        (
            BAND_MIX,
            set_params(
                metrics=["fobs_healthy", "fobs_watch", "fobs_replace_now", "fobs_replace_soon"]
            ),
            f"{BAND_MIX}: params.metrics: health bands must read healthy, watch, replace soon, "
            "replace now",
        ),
        (
            "datasets/access_warehouse/mart_fob_health_by_segment.yaml",
            set_metric("fobs_replace_now", verbose_name="0 Replace now"),
            f"{BAND_MIX}: params.metrics: health bands must read",
        ),
        (
            "dashboards/key_fob_battery_health.yaml",
            set_label_color("fobs_replace_now", "#2E7D32"),
            "dashboards/key_fob_battery_health.yaml: metadata.label_colors.fobs_replace_now: "
            "must be #C62828",
        ),
        (
            "dashboards/telemetry_data_quality.yaml",
            lambda dashboard: dashboard["metadata"].pop("label_colors"),
            "dashboards/telemetry_data_quality.yaml: metadata.label_colors.regression: "
            "must be #C62828",
        ),
        (
            FIRMWARE_TABLE,
            set_value_color("regression", "#2E7D32"),
            f"{FIRMWARE_TABLE}: params.conditional_formatting: status 'regression' must be "
            "coloured #C62828",
        ),
        (
            "dashboards/walk_away_lock_reliability.yaml",
            set_label_color("Monitoring", "#C62828"),
            "dashboards/walk_away_lock_reliability.yaml: metadata.label_colors.Monitoring: "
            "must be #1565C0",
        ),
    ],
)


@pytest.mark.parametrize(
    ("path", "change", "problem"), LABEL_AND_UNIT_CASES + PLAIN_WORDS_CASES + COLOUR_CASES
)
def test_a_chart_breaking_a_presentation_rule_fails(manifest, copy, path, change, problem):
    edit_yaml(copy, path, change)
    assert any(p.startswith(problem) for p in check(copy, manifest)), problem


def test_drifted_exposures_fail(manifest, copy):
    exposures = copy / "exposures.yml"
    exposures.write_text(exposures.read_text().replace("ref('mart_quarantine_reasons')", ""))
    assert any("exposures: out of sync" in p for p in check(copy, manifest))


def test_descriptions_come_from_the_dbt_docs(manifest):
    nodes = json.loads(manifest.read_text())["nodes"].values()
    docs = {n["name"]: n for n in nodes if n["resource_type"] == "model"}
    for name, dataset in load_bundle(settings.DASHBOARDS_DIR).of("datasets").items():
        if dataset["schema"] != "marts":
            continue  # the freshness strip reads the view publishing writes, not a model
        model = docs[dataset["table_name"]]
        assert dataset["description"] == (model["description"].strip() or None), name
        for column in dataset["columns"]:
            if column.get("expression"):
                # a column Superset computes (a label in words) describes itself
                assert column["description"], f"{name}: {column['column_name']}"
                continue
            expected = model["columns"][column["column_name"]]["description"].strip() or None
            assert column["description"] == expected, f"{name}: {column['column_name']}"


def test_malformed_yaml_names_the_file(copy):
    path = copy / "dashboards" / "charts" / "rows_read_last_7_days.yaml"
    path.write_text("slice_name: [unclosed\n")
    with pytest.raises(AssetError, match=r"^charts/rows_read_last_7_days\.yaml: invalid YAML"):
        load_bundle(copy / "dashboards")


def test_a_missing_key_names_the_file_and_key(copy):
    path = copy / "dashboards" / "charts" / "rows_read_last_7_days.yaml"
    chart = yaml.safe_load(path.read_text())
    del chart["viz_type"]
    path.write_text(yaml.safe_dump(chart))
    with pytest.raises(
        AssetError, match=r"charts/rows_read_last_7_days\.yaml: missing required key 'viz_type'"
    ):
        load_bundle(copy / "dashboards")


def test_a_dashboard_pointing_at_a_missing_chart_names_the_key(copy):
    (copy / "dashboards" / "charts" / "rows_read_last_7_days.yaml").unlink()
    with pytest.raises(
        AssetError,
        match=r"telemetry_data_quality\.yaml: key 'position\.CHART-rows_read_last_7_days",
    ):
        load_bundle(copy / "dashboards")


def test_a_new_status_without_an_agreed_colour_fails(manifest, copy, tmp_path):
    def add_status(nodes):
        test = next(
            n
            for n in nodes.values()
            if (n.get("test_metadata") or {}).get("name") == "accepted_values"
            and n["attached_node"].endswith(".mart_firmware_release_health")
            and n["test_metadata"]["kwargs"]["column_name"] == "status"
        )
        test["test_metadata"]["kwargs"]["values"].append("in_progress")

    assert (
        f"{FIRMWARE_TABLE}: params.conditional_formatting: status 'in_progress' has no agreed "
        "colour (VALUE_COLORS in check.py)"
    ) in check(copy, edit_manifest(manifest, tmp_path, add_status))


# --- the normalizer -------------------------------------------------------------------


def as_superset_export(files: dict[str, str]) -> dict[str, object]:
    """What Superset's exporter adds to our files: ids, timestamps, random layout keys."""
    export: dict[str, object] = {}
    for name, text in files.items():
        content = yaml.safe_load(text)
        folder = name.split("/")[0]
        if folder == "charts":
            content["params"].update(datasource="42__table", slice_id=7, dashboards=[3])
            content["query_context"] = json.dumps({"datasource": {"id": 42}})
            name = name.replace(".yaml", "_7.yaml")
        elif folder == "datasets":
            for column in content["columns"]:
                column["id"] = 1234
            content["changed_on"] = "2026-01-01T00:00:00"
        elif folder == "dashboards":
            position = content["position"]
            renames = {
                k: f"{k.split('-')[0]}-x{i}Qz"
                for i, k in enumerate(position)
                if k.startswith(("ROW-", "CHART-", "MARKDOWN-"))
            }
            text = yaml.safe_dump(position)
            for old, new in renames.items():
                text = text.replace(f"{old}\n", f"{new}\n").replace(f"{old}:", f"{new}:")
            content["position"] = yaml.safe_load(text)
            for node in content["position"].values():
                if isinstance(node, dict) and node["type"] == "CHART":
                    node["meta"]["chartId"] += 100
            for flt in content["metadata"]["native_filter_configuration"]:
                flt["scope"]["excluded"] = [i + 100 for i in flt["scope"]["excluded"]]
                flt["chartsInScope"] = [101, 102]
            content["metadata"]["shared_label_colors"] = {"ble": "#123456"}
            name = name.replace(".yaml", "_3.yaml")
        elif folder == "metadata.yaml":
            content = {"version": "1.0.0", "type": "Dashboard", "timestamp": "2026-11-26"}
        export[name] = content
    return export


def test_normalizing_a_raw_export_gives_back_the_files_in_git():
    files = read_tree(settings.DASHBOARDS_DIR)
    assert normalize_export(as_superset_export(files)) == files


def database_in_bundle(uri: str) -> dict:
    bundle = load_bundle(settings.DASHBOARDS_DIR)
    with zipfile.ZipFile(io.BytesIO(bundle_zip(bundle, uri))) as archive:
        name = next(n for n in archive.namelist() if "/databases/" in n)
        return yaml.safe_load(archive.read(name))


def test_the_import_sets_the_uri_from_the_environment_and_duckdb_opens_read_only():
    database = database_in_bundle("duckdb:////srv/serving/warehouse.duckdb")
    assert database["sqlalchemy_uri"] == "duckdb:////srv/serving/warehouse.duckdb"
    connect_args = database["extra"]["engine_params"]["connect_args"]
    assert connect_args["read_only"] is True
    assert connect_args["config"] == {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "enable_external_access": False,
        "lock_configuration": True,
    }
    trino = database_in_bundle("trino://analytics@trino:8443/iceberg")
    assert trino["sqlalchemy_uri"] == "trino://analytics@trino:8443/iceberg"
    assert "connect_args" not in trino["extra"]["engine_params"]
