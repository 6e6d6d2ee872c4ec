"""The plan spec: models, loading with line-accurate errors, JSON Schema.

Loading is :mod:`xlplan.spec.loader` (``load_plan``, ``PlanError``); this package
itself imports only the models, so that importing a model (as the engine does,
and the Excel functions with it) does not bring plan loading and file reading.
"""

from xlplan.spec.checks import Problem
from xlplan.spec.models import Plan


def json_schema() -> dict[str, object]:
    """The JSON Schema of a plan file, for editors (YAML language servers)."""
    schema = Plan.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "xlplan plan"
    return schema


__all__ = ["Plan", "Problem", "json_schema"]
