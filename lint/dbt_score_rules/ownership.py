"""Owners and access levels, the dbt-score rules and filter of this project.

Owners are stated once, on dbt groups (models/_groups.yml), and dbt refuses a
group without an owner; dbt-score's own has_owner only reads `meta.owner`, so
these rules check the group instead, and that access follows the layer.
"""

from dbt_score import Model, RuleViolation, Seed, rule, rule_filter

MARTS = "models/marts/"


@rule
def model_has_group(model: Model) -> RuleViolation | None:
    """A model belongs to a dbt group, which names its owner."""
    if not model.group:
        return RuleViolation(message="Model has no group, so no owner (models/_groups.yml).")
    return None


@rule
def seed_has_group(seed: Seed) -> RuleViolation | None:
    """A seed belongs to a dbt group, which names its owner."""
    if not seed.config.get("group"):
        return RuleViolation(message="Seed has no group, so no owner (models/_groups.yml).")
    return None


@rule
def only_marts_are_public(model: Model) -> RuleViolation | None:
    """Marts are the public interface; every other model is protected or private."""
    is_mart = model.original_file_path.startswith(MARTS)
    if is_mart and model.access != "public":
        return RuleViolation(message=f"Mart with access {model.access}, expected public.")
    if not is_mart and model.access == "public":
        return RuleViolation(message="Public model outside models/marts/.")
    return None


@rule_filter
def is_public(model: Model) -> bool:
    """Public models: the interface others query, so worth an example query."""
    return model.access == "public"
