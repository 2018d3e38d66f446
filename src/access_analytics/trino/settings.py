"""Where and how the local Trino runs: its version, catalogs and settings."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from access_analytics.paths import PROJECT_ROOT

TRINO_VERSION = "476"
MIN_JAVA_MAJOR = 24
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"
SERVER_ARTIFACT = f"io.trino:trino-server-core:{TRINO_VERSION}:tar.gz"
PLUGIN_ARTIFACTS = {
    "hive": f"io.trino:trino-hive:{TRINO_VERSION}:zip",
    "iceberg": f"io.trino:trino-iceberg:{TRINO_VERSION}:zip",
}
ICEBERG_CATALOG = "lake"
HIVE_CATALOG = "hive"


class TrinoError(RuntimeError):
    """Raised when Trino cannot be downloaded, configured, started or reached."""


def _env(name: str, default: object, convert: Callable[[str], Any] = str) -> Callable[[], Any]:
    """A default factory: environment variable `name`, else `default`, when settings are made."""
    return lambda: convert(os.environ.get(name, str(default)))


@dataclass
class TrinoSettings:
    """Where and how the local Trino runs; every field has an environment override."""

    host: str = field(default_factory=_env("ACCESS_TRINO_HOST", "localhost"))
    port: int = field(default_factory=_env("ACCESS_TRINO_PORT", 8085, int))
    user: str = field(default_factory=_env("ACCESS_TRINO_USER", "access_analytics"))
    heap: str = field(default_factory=_env("ACCESS_TRINO_HEAP", "3G"))
    cache_dir: Path = field(
        default_factory=_env("ACCESS_TRINO_CACHE_DIR", PROJECT_ROOT / ".cache" / "trino", Path)
    )
    var_dir: Path = field(
        default_factory=_env("ACCESS_TRINO_VAR_DIR", PROJECT_ROOT / "var" / "trino", Path)
    )
    startup_timeout_s: float = 240.0
    # The server unpacked once next to the downloads (shared by every runtime
    # directory), and this runtime's files under var_dir: set by __post_init__.
    install_dir: Path = field(init=False)
    etc_dir: Path = field(init=False)
    data_dir: Path = field(init=False)
    warehouse_dir: Path = field(init=False)
    pid_file: Path = field(init=False)
    log_file: Path = field(init=False)

    def __post_init__(self) -> None:
        self.cache_dir = self.cache_dir.resolve()
        self.var_dir = self.var_dir.resolve()
        self.install_dir = self.cache_dir / f"trino-server-{TRINO_VERSION}"
        self.etc_dir = self.var_dir / "etc"
        self.data_dir = self.var_dir / "data"
        self.warehouse_dir = self.var_dir / "warehouse"
        self.pid_file = self.var_dir / "trino.pid"
        self.log_file = self.var_dir / "server.log"
