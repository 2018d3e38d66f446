"""Where the project keeps things, resolved from the environment with local defaults."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

DEMO_PSEUDONYM_KEY = "demo-pseudonym-key"
"""Documented key for the local demo only; any real deployment sets ACCESS_PSEUDONYM_KEY."""


def lake_root() -> Path:
    return Path(os.environ.get("ACCESS_LAKE_ROOT", PROJECT_ROOT / "data" / "lake"))


def venv_bin(name: str) -> str:
    """A tool installed in the project's virtual environment (falls back to PATH)."""
    candidate = PROJECT_ROOT / ".venv" / "bin" / name
    return str(candidate) if candidate.exists() else name
