"""SQL lint cannot skip a file.

sqlfluff reports a file it cannot template as "skipped" and still exits 0, so a
model that does not compile (the pseudonym macro without ACCESS_PSEUDONYM_KEY,
for one) used to pass lint unseen. These tests run the pre-commit hook's exact
command and `make lint`'s templater and require every file linted or a failure.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def _hook(hook_id: str) -> dict:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    return next(hook for hook in hooks if hook["id"] == hook_id)


def _env_without_key() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "ACCESS_PSEUDONYM_KEY"}


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=cwd, env=_env_without_key(), capture_output=True, text=True, timeout=600
    )


def _run_hook(files: list[str], cwd: Path = REPO) -> subprocess.CompletedProcess:
    """The hook's command as pre-commit runs it: the entry, then the staged files."""
    return _run([*shlex.split(_hook("sqlfluff")["entry"]), *files], cwd)


def _output(completed: subprocess.CompletedProcess) -> str:
    return completed.stdout + completed.stderr


def _models_calling_pseudonym() -> list[str]:
    return sorted(
        str(path.relative_to(REPO))
        for path in (REPO / "models").rglob("*.sql")
        if "pseudonym(" in path.read_text()
    )


def test_hook_lints_the_models_that_need_the_pseudonym_key_without_it():
    models = _models_calling_pseudonym()
    assert models, "no model calls the pseudonym macro any more: pick another model"
    completed = _run_hook(models)
    output = _output(completed)
    assert "skip" not in output.lower(), output
    assert completed.returncode == 0, output


def test_hook_renders_the_raw_contract_into_the_staging_models():
    """The contract macros read graph.sources: the hook must see the real select lists.

    Without the contract's columns these models render `select , ingest_date` and
    every one of them fails to parse; with them they lint clean.
    """
    contract_models = sorted(
        str(path.relative_to(REPO))
        for path in (REPO / "models" / "staging").rglob("*.sql")
        if re.search(
            r"access_analytics\.(raw_rows_with_status|typed_raw_columns)", path.read_text()
        )
    )
    assert len(contract_models) >= 6, contract_models
    completed = _run_hook(contract_models)
    assert completed.returncode == 0, _output(completed)
    sources = yaml.safe_load((REPO / "models/staging/_staging__sources.yml").read_text())
    access_events = next(t for t in sources["sources"][0]["tables"] if t["name"] == "access_events")
    rendered = _run(
        [
            str(REPO / ".venv/bin/sqlfluff"),
            "render",
            "--templater",
            "jinja",
            "models/staging/stg_raw__access_events_quarantine.sql",
        ],
        REPO,
    ).stdout
    for column in access_events["columns"]:
        pattern = rf"^\s+rows_read\.{column['name']},$"
        assert re.search(pattern, rendered, re.MULTILINE), (column, rendered)


@pytest.fixture
def probe_project(tmp_path: Path) -> Path:
    """The project's lint configuration, macros and raw contract around models of our own."""
    for name in (".sqlfluff", "dbt_project.yml"):
        shutil.copy(REPO / name, tmp_path / name)
    for name in ("macros", "lint"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / ".venv").symlink_to(REPO / ".venv")
    # The raw contract the lint context reads for graph.sources.
    (tmp_path / "models" / "staging").mkdir(parents=True)
    shutil.copy(REPO / "models/staging/_staging__sources.yml", tmp_path / "models/staging")
    return tmp_path


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select {{ access_analytics.no_such_macro() }} as x\n", "no_such_macro"),
        ("select '{{ env_var('ACCESS_LINT_PROBE_UNSET') }}' as x\n", "ACCESS_LINT_PROBE_UNSET"),
        ("select {{ adapter.no_such_method() }} as x\n", "no_such_method"),
        ("SELECT 1 AS x\n", "CP01"),
    ],
    ids=["undefined-macro", "unset-env-var", "undefined-adapter-method", "violation"],
)
def test_hook_fails_on_a_model_that_does_not_render_or_breaks_a_rule(probe_project, sql, expected):
    (probe_project / "models" / "probe.sql").write_text(sql)
    completed = _run_hook(["models/probe.sql"], cwd=probe_project)
    output = _output(completed)
    assert completed.returncode != 0, output
    assert expected in output, output
    assert "skip" not in output.lower(), output


def test_make_lint_templater_fails_instead_of_skipping():
    """`make lint` keeps the dbt templater: a model dbt cannot compile fails the run."""
    model = _models_calling_pseudonym()[0]
    completed = _run([str(REPO / ".venv/bin/sqlfluff"), "lint", "--processes", "1", model], REPO)
    output = _output(completed)
    assert completed.returncode != 0, output
    assert "ACCESS_PSEUDONYM_KEY is not set" in output, output
    assert "Skipped file" not in output, output


def test_make_lint_and_the_hook_lint_the_same_files():
    makefile = (REPO / "Makefile").read_text()
    sql_paths = re.search(r"^SQL_PATHS := (.+)$", makefile, re.MULTILINE).group(1).split()
    assert "$(SQL_PATHS)" in makefile.split("\nlint:")[1].split("\n\n")[0]
    files_pattern = re.compile(_hook("sqlfluff")["files"])
    tracked = subprocess.run(
        ["git", "ls-files", "*.sql"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    by_make = {path for path in tracked if any(path.startswith(p + "/") for p in sql_paths)}
    by_hook = {path for path in tracked if files_pattern.search(path)}
    assert by_make == by_hook
    assert any(path.startswith("models/") for path in by_make)
    assert not any(path.startswith("macros/") for path in by_make)
