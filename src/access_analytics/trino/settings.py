"""Where and how the local Trino runs: its version, catalogs and settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass
class TrinoSettings:
    """Where and how the local Trino runs; every field has an environment override."""

    host: str = field(default_factory=lambda: os.environ.get("ACCESS_TRINO_HOST", "localhost"))
    port: int = field(default_factory=lambda: int(os.environ.get("ACCESS_TRINO_PORT", "8085")))
    user: str = field(
        default_factory=lambda: os.environ.get("ACCESS_TRINO_USER", "access_analytics")
    )
    heap: str = field(default_factory=lambda: os.environ.get("ACCESS_TRINO_HEAP", "3G"))
    cache_dir: Path = field(
        default_factory=lambda: Path(
            os.environ.get("ACCESS_TRINO_CACHE_DIR", PROJECT_ROOT / ".cache" / "trino")
        )
    )
    var_dir: Path = field(
        default_factory=lambda: Path(
            os.environ.get("ACCESS_TRINO_VAR_DIR", PROJECT_ROOT / "var" / "trino")
        )
    )
    startup_timeout_s: float = 240.0

    def __post_init__(self) -> None:
        self.cache_dir = self.cache_dir.resolve()
        self.var_dir = self.var_dir.resolve()

    @property
    def install_dir(self) -> Path:
        # Unpacked once next to the downloads and shared by every runtime directory.
        return self.cache_dir / f"trino-server-{TRINO_VERSION}"

    @property
    def etc_dir(self) -> Path:
        return self.var_dir / "etc"

    @property
    def data_dir(self) -> Path:
        return self.var_dir / "data"

    @property
    def warehouse_dir(self) -> Path:
        return self.var_dir / "warehouse"

    @property
    def pid_file(self) -> Path:
        return self.var_dir / "trino.pid"

    @property
    def log_file(self) -> Path:
        return self.var_dir / "server.log"
