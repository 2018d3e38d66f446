"""Synthetic raw telemetry for the access analytics lake (models/staging/_staging__sources.yml)."""

from access_analytics.generator.config import GeneratorConfig, GeneratorError
from access_analytics.generator.lake import generate_lake

__all__ = ["GeneratorConfig", "GeneratorError", "generate_lake"]
