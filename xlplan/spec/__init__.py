"""The plan spec: models, loading with line-accurate errors, JSON Schema."""

from xlplan.spec.checks import Problem
from xlplan.spec.loader import LoadedPlan, PlanError, load_plan, load_plan_text
from xlplan.spec.models import Plan


def json_schema() -> dict[str, object]:
    """The JSON Schema of a plan file, for editors (YAML language servers)."""
    schema = Plan.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "xlplan plan"
    return schema


__all__ = ["LoadedPlan", "Plan", "PlanError", "Problem", "json_schema", "load_plan",
           "load_plan_text"]
