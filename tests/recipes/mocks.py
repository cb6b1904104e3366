"""Run a recipe program under Pulumi mocks and record every resource's inputs (no state, no cloud)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provisioner.engine.emulators import EmulationContext, handler_for
from provisioner.engine.simulated import run_program_with_mocks, unwrap_secrets
from provisioner.recipe_api import Recipe, RecipeArgs, RecipeContext


@dataclass
class Recorded:
    type: str
    name: str
    resource_id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


@dataclass
class RecordingMocks:
    """Answers like the simulated engine (synthesized or emulated outputs) and keeps what it saw."""

    ctx: EmulationContext
    resources: list[Recorded] = field(default_factory=list)

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        inputs = unwrap_secrets(dict(args.inputs))
        if not args.custom or args.typ.startswith("pulumi:providers:"):
            return "", inputs
        resource_id, outputs = handler_for(args.typ).create(args.name, args.typ, inputs, self.ctx)
        self.resources.append(Recorded(args.typ, args.name, resource_id, inputs, outputs))
        return resource_id, outputs

    def call(self, args: Any) -> dict[str, Any]:
        """Answer invokes like the simulated engine does (emulated, or an empty result)."""
        from provisioner.engine.emulators import invoke_for

        invoke = invoke_for(args.token)
        return invoke(unwrap_secrets(dict(args.args or {})), self.ctx) if invoke else {}

    def of_type(self, prefix: str) -> list[Recorded]:
        return [r for r in self.resources if r.type.startswith(prefix)]

    def named(self, name: str) -> Recorded:
        return next(r for r in self.resources if r.name == name)


def run_recipe(recipe: Recipe, args: RecipeArgs, context: RecipeContext) -> tuple[RecordingMocks, dict[str, Any]]:
    """The recorded resources and the resolved exports of one run of ``recipe``."""
    mocks = RecordingMocks(EmulationContext(stack=context.env, project=f"provisioner-{recipe.name}", region=context.region or "us-east-1"))
    exports = run_program_with_mocks(lambda: recipe.program(args, context), mocks, f"provisioner-{recipe.name}", context.env, False)
    return mocks, {key: value.value for key, value in exports.items()}
