"""Generation parameters and their validation."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MAX_VEHICLES = 500_000  # the VIN serial has six digits
MAX_DAYS = 730


class GeneratorError(ValueError):
    """A bad argument or an unusable lake directory, with a one-line message for users."""


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything that determines a generated lake: same config, same bytes."""

    lake: Path
    vehicles: int = 400
    days: int = 60
    start_date: dt.date = dt.date(2026, 1, 5)
    seed: int = 42
    # Share of rows uploaded more than once (each extra copy counts once).
    duplicate_rate: float = 0.02
    # Share of trips whose rows arrive more than 1 h (up to 24 h) late.
    late_rate: float = 0.03
    # Share of trips whose rows arrive more than 24 h late.
    very_late_rate: float = 0.005
    # Share of rows broken in a way the contract rejects (quarantined).
    invalid_rate: float = 0.002
    # Share of vehicle-days whose clock runs up to 5 min ahead (valid skew).
    skew_rate: float = 0.01
    # Share of vehicle-days on a service build missing from the firmware registry.
    unknown_firmware_rate: float = 0.005
    files_per_partition: int = 4
    overwrite: bool = False

    def validate(self) -> None:
        if not 1 <= self.vehicles <= MAX_VEHICLES:
            raise GeneratorError(
                f"--vehicles must be between 1 and {MAX_VEHICLES}, got {self.vehicles}"
            )
        if not 1 <= self.days <= MAX_DAYS:
            raise GeneratorError(f"--days must be between 1 and {MAX_DAYS}, got {self.days}")
        if not 0 <= self.seed < 2**63:
            raise GeneratorError(f"--seed must be between 0 and 2^63-1, got {self.seed}")
        if not 1 <= self.files_per_partition <= 64:
            raise GeneratorError(
                f"--files-per-partition must be between 1 and 64, got {self.files_per_partition}"
            )
        for name in (
            "duplicate_rate",
            "late_rate",
            "very_late_rate",
            "invalid_rate",
            "skew_rate",
            "unknown_firmware_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                option = "--" + name.replace("_", "-")
                raise GeneratorError(f"{option} must be between 0 and 1, got {value}")
        if self.late_rate + self.very_late_rate > 1.0:
            raise GeneratorError("--late-rate plus --very-late-rate must not exceed 1")

    def parameters(self) -> dict[str, Any]:
        """The parameters as JSON-ready values (for the manifest); the path is left out."""
        values = asdict(self)
        values.pop("lake")
        values.pop("overwrite")
        values["start_date"] = self.start_date.isoformat()
        return values


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise GeneratorError(f"--start-date must be a date like 2026-01-05, got {text!r}") from None


DEFAULTS = GeneratorConfig(lake=Path("data/lake"))
"""The default fleet and fault rates, for command-line defaults and the demo."""
