"""`provisioner flavor ...`: the catalog of component flavors and their config schemas."""

from typing import Annotated, Any, Optional

import typer

from provisioner.cli._app import new_app
from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, info, render

app = new_app(help="Browse component flavors.", no_args_is_help=True)


def _summary(flavor: Any) -> dict[str, Any]:
    return {
        "name": flavor.name,
        "type": flavor.type.value,
        "description": flavor.description,
        "connector_resource_type": flavor.connector_resource_type.value if flavor.connector_resource_type else None,
        "secret_fields": sorted(flavor.config_class.secret_fields()),
        "source": flavor.source,
    }


def _catalog() -> Any:
    from provisioner.registry.flavors import FlavorRegistry

    catalog = FlavorRegistry.load()
    for problem in catalog.errors:
        info(f"warning: {problem}")
    return catalog


@app.command("list")
@report_errors
def list_flavors(
    *,
    component_type: Annotated[Optional[str], typer.Option("--type", "-t", help="Only this type.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List flavors for every component type."""
    from provisioner.registry.models import ComponentType
    from provisioner.registry.validation import call_or_raise

    wanted = call_or_raise(lambda: ComponentType(component_type), "--type") if component_type else None
    flavors = [_summary(f) for f in _catalog().all(wanted)]
    rows = [(f["type"], f["name"], f["connector_resource_type"], f["source"], f["description"]) for f in flavors]
    render(flavors, output, "Flavors", ["type", "flavor", "connector resource", "source", "description"], rows)


@app.command("describe")
@report_errors
def describe(
    name: Annotated[str, typer.Argument(help="Flavor name.")],
    *,
    component_type: Annotated[Optional[str], typer.Option("--type", "-t", help="Needed when the name is shared.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Show a flavor and the JSON schema of its config."""
    from provisioner.registry.models import ComponentType
    from provisioner.registry.validation import call_or_raise

    wanted = call_or_raise(lambda: ComponentType(component_type), "--type") if component_type else None
    flavor = _catalog().find(name, wanted)
    schema = flavor.config_class.model_json_schema()
    data = {**_summary(flavor), "config_schema": schema}
    required = set(schema.get("required", []))
    rows = [
        (field, prop.get("type", "-"), "yes" if field in required else "", prop.get("default", "-"), prop.get("description", ""))
        for field, prop in schema.get("properties", {}).items()
    ]
    render(data, output, f"Flavor {flavor.name} ({flavor.type.value})", ["field", "type", "required", "default", "description"], rows)
