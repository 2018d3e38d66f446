"""The repository documents itself: no reference leads outside it.

Fast checks on the tracked files (no dbt run, no manifest): every markdown file that a
tracked text file names exists in the repository, with the section it points at; every
relative link of the markdown docs resolves; docs/metrics.md covers every public mart
and maps every dashboard chart; docs/raw-contract.md names every table, column, value
and rule of the machine-readable raw contract (models/staging/_staging__sources.yml).
"""

from __future__ import annotations

import posixpath
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
METRICS_DOC = "docs/metrics.md"
RAW_CONTRACT_DOC = "docs/raw-contract.md"
SOURCES_FILE = "models/staging/_staging__sources.yml"

# A markdown file name as text mentions it, with an optional #section, such as
# docs/metrics.md#privacy or README.md. A word character must precede the extension, so
# a glob (*.md) is no reference, nor is a placeholder path (_<folder>__docs.md).
MD_MENTION = re.compile(
    r"(?<![\w./<>{}*$-])(?P<path>[\w./-]*[\w-]\.md)(?![\w-])(?:#(?P<anchor>[\w-]+))?",
    re.IGNORECASE,
)
# Mentions that name no file of this repository. Keep it short and say why.
NOT_REFERENCES: set[str] = set()
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


@cache
def tracked_files() -> tuple[str, ...]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    return tuple(name for name in listing.decode().split("\0") if name)


@cache
def tracked_paths() -> frozenset[str]:
    """Tracked files and every folder that holds one."""
    paths = set(tracked_files())
    for name in tracked_files():
        parent = posixpath.dirname(name)
        while parent:
            paths.add(parent)
            parent = posixpath.dirname(parent)
    return frozenset(paths)


@cache
def text_of(name: str) -> str | None:
    """A tracked file's text, or None for a binary file (or one deleted in the work tree)."""
    path = REPO / name
    if not path.is_file():
        return None
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def text_files() -> list[str]:
    return [name for name in tracked_files() if text_of(name) is not None]


def resolve(mentioned: str, in_file: str) -> str | None:
    """The tracked path a mention names: from the repository root or the file's folder."""
    candidates = [mentioned, posixpath.join(posixpath.dirname(in_file), mentioned)]
    for candidate in candidates:
        normal = posixpath.normpath(candidate)
        if normal in tracked_paths():
            return normal
    if "/" not in mentioned:
        by_name = [name for name in tracked_files() if posixpath.basename(name) == mentioned]
        if len(by_name) == 1:
            return by_name[0]
    return None


def slug(title: str) -> str:
    """GitHub's anchor of a heading: lowercase, punctuation dropped, spaces to hyphens."""
    title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)  # a link's text only
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


@cache
def anchors(name: str) -> frozenset[str]:
    """The section anchors of a markdown file (headings outside code fences)."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    in_fence = False
    for line in (text_of(name) or "").splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        heading = HEADING.match(line)
        if in_fence or not heading:
            continue
        base = slug(heading["title"])
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")  # repeated titles get -1, -2...
    return frozenset(found)


def broken_reference(target: str, anchor: str | None, in_file: str) -> str | None:
    """Why a reference from in_file is broken, or None when it resolves."""
    resolved = resolve(target, in_file) if target else in_file
    if resolved is None:
        return f"{target} is not in the repository"
    if anchor and resolved.lower().endswith(".md") and anchor.lower() not in anchors(resolved):
        return f"{resolved} has no section #{anchor}"
    return None


def test_every_markdown_file_a_tracked_file_names_exists():
    problems = []
    for name in text_files():
        text = URL.sub(" ", text_of(name) or "")
        for number, line in enumerate(text.splitlines(), start=1):
            for mention in MD_MENTION.finditer(line):
                if mention["path"] in NOT_REFERENCES:
                    continue
                problem = broken_reference(mention["path"], mention["anchor"], name)
                if problem:
                    problems.append(f"{name}:{number}: {problem}")
    assert not problems, "references to docs the repository lacks:\n" + "\n".join(problems)


def test_every_relative_link_of_the_markdown_docs_resolves():
    problems = []
    markdown = [name for name in text_files() if name.lower().endswith(".md")]
    assert {METRICS_DOC, RAW_CONTRACT_DOC, "README.md"} <= set(markdown)
    for name in markdown:
        for number, line in enumerate((text_of(name) or "").splitlines(), start=1):
            for link in MARKDOWN_LINK.finditer(line):
                target = link["target"]
                if URL.match(target) or target.startswith("mailto:"):
                    continue
                path, _, anchor = target.partition("#")
                problem = broken_reference(path, anchor or None, name)
                if problem:
                    problems.append(f"{name}:{number}: link {target}: {problem}")
    assert not problems, "broken links:\n" + "\n".join(problems)


# --- docs/metrics.md covers the marts and the dashboards ---------------------------


def folder_access(project: dict, folders: list[str]) -> str | None:
    """The +access that dbt_project.yml gives a model folder (the deepest setting wins)."""
    node = project.get("models", {}).get(project["name"], {})
    access = node.get("+access")
    for folder in folders:
        node = node.get(folder) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            break
        access = node.get("+access", access)
    return access


def model_access_overrides() -> dict[str, str]:
    """Access set on a model itself, in its YAML properties or its config() call."""
    overrides = {}
    for name in tracked_files():
        if not name.startswith("models/"):
            continue
        if name.endswith((".yml", ".yaml")):
            for model in (yaml.safe_load(text_of(name) or "") or {}).get("models") or []:
                access = (model.get("config") or {}).get("access") or model.get("access")
                if access:
                    overrides[model["name"]] = access
        elif name.endswith(".sql"):
            found = re.search(r"config\([^)]*\baccess\s*=\s*['\"](\w+)['\"]", text_of(name) or "")
            if found:
                overrides[posixpath.basename(name)[: -len(".sql")]] = found[1]
    return overrides


def public_marts() -> list[str]:
    project = yaml.safe_load(text_of("dbt_project.yml") or "")
    overrides = model_access_overrides()
    marts = []
    for name in tracked_files():
        if not (name.startswith("models/marts/") and name.endswith(".sql")):
            continue
        model = posixpath.basename(name)[: -len(".sql")]
        folders = posixpath.dirname(name).split("/")[1:]
        if overrides.get(model, folder_access(project, folders)) == "public":
            marts.append(model)
    return sorted(marts)


def test_the_metric_catalogue_describes_every_public_mart():
    marts = public_marts()
    assert len(marts) >= 10, f"expected the public marts of models/marts/, found {marts}"
    catalogue = text_of(METRICS_DOC) or ""
    missing = [mart for mart in marts if f"`{mart}`" not in catalogue]
    assert not missing, f"{METRICS_DOC} does not mention these public marts: {missing}"


def test_the_metric_catalogue_maps_every_dashboard_chart():
    charts = [
        yaml.safe_load(text_of(name) or "")["slice_name"]
        for name in tracked_files()
        if name.startswith("dashboards/charts/") and name.endswith(".yaml")
    ]
    assert charts, "no chart exports in dashboards/charts/"
    catalogue = text_of(METRICS_DOC) or ""
    missing = sorted(chart for chart in charts if chart not in catalogue)
    assert not missing, f"{METRICS_DOC} does not map these charts: {missing}"


# --- docs/raw-contract.md explains the sources YAML ---------------------------------


def raw_tables() -> list[dict]:
    document = yaml.safe_load(text_of(SOURCES_FILE) or "")
    (raw,) = (source for source in document["sources"] if source["name"] == "raw")
    return raw["tables"]


def contract_terms() -> list:
    """Every name, value and rule of the sources YAML the raw-contract doc must state."""
    terms = []
    for table in raw_tables():
        # each table has a section of its own, titled by its name
        terms.append(pytest.param(f"# {table['name']}\n", id=table["name"]))
        for column in table["columns"]:
            label = f"{table['name']}.{column['name']}"
            terms.append(pytest.param(f"`{column['name']}`", id=label))
            meta = (column.get("config") or {}).get("meta") or column.get("meta") or {}
            for value in meta.get("accepted_values", []):
                terms.append(pytest.param(f"`{value}`", id=f"{label}={value}"))
            if "pattern" in meta:
                terms.append(pytest.param(meta["pattern"], id=f"{label}~pattern"))
            if "accepted_range" in meta:
                low, high = meta["accepted_range"]
                terms.append(pytest.param(f"{low} .. {high}", id=f"{label}~range"))
    return terms


@pytest.mark.parametrize("term", contract_terms())
def test_the_raw_contract_doc_states_every_rule_of_the_sources_yaml(term):
    assert term in (text_of(RAW_CONTRACT_DOC) or ""), f"{RAW_CONTRACT_DOC} lacks {term}"


def test_the_raw_contract_doc_states_the_time_tolerances_and_quarantine_reasons():
    document = yaml.safe_load(text_of(SOURCES_FILE) or "")
    (raw,) = (source for source in document["sources"] if source["name"] == "raw")
    meta = raw["config"]["meta"]
    doc = text_of(RAW_CONTRACT_DOC) or ""
    assert f"future_event_tolerance_s: {meta['future_event_tolerance_s']}" in doc
    assert f"too_late_after_days: {meta['too_late_after_days']}" in doc
    # The reasons in the order quarantine_reason tries them.
    macro = text_of("macros/staging/raw_contract.sql") or ""
    reasons = re.findall(r"(?:^\s*|rules\.append\()\('(\w+)',", macro, re.MULTILINE)
    assert len(reasons) == 6, reasons
    positions = [doc.find(f"`{reason}`") for reason in reasons]
    assert -1 not in positions, f"{RAW_CONTRACT_DOC} lacks a quarantine reason of {reasons}"
    assert positions == sorted(positions), "quarantine reasons not listed in contract order"
    for table in raw_tables():
        partition = table["config"]["meta"]["partition_column"]
        assert f"raw/{table['name']}/{partition}=YYYY-MM-DD/" in doc
