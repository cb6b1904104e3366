"""Write the config schema of every ZenML flavor that provisioner maps, read from an installed ZenML.

Run with the Python of a virtual environment that has ZenML (not the project's):

    /path/to/zenml-venv/bin/python tools/zenml_flavor_snapshot.py > provisioner/exports/zenml_flavors.json

For each (component type, flavor): ZenML's version, the config class's fields (name, whether
required, whether ZenML treats it as a secret), and the service connector requirements
(connector type, resource type, the config field that holds the resource id). The export checks
each component against this snapshot; tests/zenml compares it with the installed ZenML again.
"""

from __future__ import annotations

import json
import sys
from typing import Any

WANTED = {
    "orchestrator": ["kubernetes", "local", "sagemaker", "vertex"],
    "deployer": ["kubernetes", "local"],
    "artifact_store": ["gcp", "local", "s3"],
    "container_registry": ["aws", "default", "gcp"],
    "data_validator": ["evidently", "great_expectations"],
    "experiment_tracker": ["mlflow", "wandb"],
    "model_deployer": ["mlflow", "seldon"],
    "step_operator": ["kubernetes", "sagemaker", "vertex"],
    "alerter": ["slack"],
    "image_builder": ["aws", "gcp", "kaniko", "local"],
    "annotator": ["label_studio"],
    "model_registry": ["mlflow"],
    "feature_store": ["feast"],
}


def _flavors() -> dict[tuple[str, str], Any]:
    """Every flavor ZenML ships: the built-in ones and each integration's, without its requirements."""
    from zenml.integrations.registry import integration_registry
    from zenml.stack.flavor_registry import FlavorRegistry

    found: dict[tuple[str, str], Any] = {}
    for flavor_class in FlavorRegistry().builtin_flavors:
        flavor = flavor_class()
        found[(flavor.type.value, flavor.name)] = flavor
    for integration in integration_registry.integrations.values():
        for flavor_class in integration.flavors():
            flavor = flavor_class()
            found.setdefault((flavor.type.value, flavor.name), flavor)
    return found


def _fields(config_class: Any) -> dict[str, dict[str, bool]]:
    from zenml.utils import secret_utils

    result = {}
    for name, field in config_class.model_fields.items():
        result[name] = {
            "required": field.is_required(),
            "secret": bool(secret_utils.is_secret_field(field)),
        }
    return result


def main() -> None:
    import zenml

    flavors = _flavors()
    out: dict[str, Any] = {"zenml_version": zenml.__version__, "flavors": {}}
    for component_type, names in WANTED.items():
        for name in names:
            flavor = flavors.get((component_type, name))
            if flavor is None:
                out["flavors"][f"{component_type}/{name}"] = None
                continue
            requirements = flavor.service_connector_requirements
            out["flavors"][f"{component_type}/{name}"] = {
                "fields": _fields(flavor.config_class),
                "connector": None if requirements is None else {
                    "connector_type": requirements.connector_type,
                    "resource_type": requirements.resource_type,
                    "resource_id_attr": requirements.resource_id_attr,
                },
            }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
