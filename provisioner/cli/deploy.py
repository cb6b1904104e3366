"""`deploy-stack` and `destroy-stack`."""

from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import typer

from provisioner.cli._app import new_app
from provisioner.cli._deploy_common import (
    SIMULATION_BANNER,
    BackendOption,
    ContextOption,
    EnvOption,
    FileOption,
    NameOption,
    NoPreflightOption,
    PreflightOption,
    RecipeArgument,
    RegionOption,
    SetOption,
    SimulateOption,
    make_engine,
    resolve,
)
from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, ShowSecretsOption, ask, info, print_json

deploy_app = new_app(pretty_exceptions_enable=False)
destroy_app = new_app(pretty_exceptions_enable=False)


def _sink(output: OutputFormat, title: str) -> Any:
    from provisioner.engine.base import NullSink

    if output is OutputFormat.json:
        return NullSink()
    from provisioner.cli._progress import RichProgressSink

    return RichProgressSink(title)


# Extra words are collected, not refused by click, so the refusal can say what was meant (`aws dev`: `--env dev`).
EXTRA_WORDS = {"allow_extra_args": True}


@deploy_app.command(context_settings=EXTRA_WORDS)
@report_errors
def deploy_stack(
    ctx: typer.Context,
    recipe: RecipeArgument,
    *,
    env: EnvOption = "dev",
    region: RegionOption = None,
    name: NameOption = None,
    config_file: FileOption = None,
    set_values: SetOption = None,
    context: ContextOption = None,
    simulate: SimulateOption = False,
    plan: Annotated[bool, typer.Option("--plan", help="Preview only: show what would be created; change nothing.")] = False,
    compare_envs: Annotated[
        bool, typer.Option("--compare-envs", help="With --plan: plan dev, staging and prod and compare them.")
    ] = False,
    backend: BackendOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (prod asks otherwise).")] = False,
    output: OutputOption = OutputFormat.table,
    show_secrets: ShowSecretsOption = False,
    preflight: PreflightOption = False,
    no_preflight: NoPreflightOption = False,
    push_zenml: Annotated[
        bool, typer.Option("--push-zenml", help="Then push the registered stack to a ZenML server (see `provisioner stack push`).")
    ] = False,
    zenml_url: Annotated[
        Optional[str], typer.Option("--zenml-url", help="With --push-zenml: the server (default: $ZENML_STORE_URL).", show_default=False)
    ] = None,
    zenml_project: Annotated[str, typer.Option("--zenml-project", help="With --push-zenml: the ZenML project.")] = "default",
    show_same: Annotated[bool, typer.Option("--show-same", help="With --plan: list unchanged resources too.")] = False,
    save: Annotated[
        Optional[Path], typer.Option("--save", help="With --plan: write the plan to this new file (no secrets in it).")
    ] = None,
    from_plan: Annotated[
        Optional[Path],
        typer.Option("--from-plan", help="Apply a plan saved with --plan --save; refused if the program would now do something else."),
    ] = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="With --plan: first compare the cloud with the state (drift; exit 1 if any).")
    ] = False,
    allow_data_replacement: Annotated[
        Optional[str],
        typer.Option("--allow-data-replacement", metavar="STACK",
                     help="In prod, let this deploy replace or delete a bucket or database (give the stack's name)."),
    ] = None,
) -> None:
    """Deploy a recipe for an environment and register what it created as a stack."""
    refuse_extra_words(ctx.args, "deploy-stack")
    from provisioner.cli._context import open_registry
    from provisioner.lifecycle import deploy

    _refuse_preflight_combination(preflight, no_preflight=no_preflight, plan=plan, compare_envs=compare_envs)
    zenml_target = _zenml_target(push_zenml, zenml_url, zenml_project, plan=plan)
    if refresh and not plan:
        from provisioner.errors import InputError

        raise InputError("--refresh goes with --plan (a deploy always reconciles the cloud with the program)")
    if compare_envs:
        if not plan:
            from provisioner.errors import InputError

            raise InputError("--compare-envs goes with --plan")
        _compare_envs(recipe, config_file, set_values, region, context, simulate, backend, output)
        return
    saved = _check_plan_options(plan, save, from_plan, recipe, env, config_file, set_values, region, name)
    if saved is not None:
        recipe_obj, request, args = _resolve_saved(saved, backend, context)
    else:
        recipe_obj, request, args = resolve(
            recipe, env, config_file=config_file, sets=set_values, region=region, name=name, backend=backend, context=context,
            simulated=simulate,
        )
    recipe_obj.check(args, simulated=simulate, region=request.region)  # every input check before any question
    if save is not None:
        from provisioner.saved_plan import secret_settings_set

        secret = secret_settings_set(args)
        if secret:
            from provisioner.errors import InputError

            raise InputError(f"--save: a plan file holds no secrets, and these settings are secret: {', '.join(secret)}")
    if preflight:
        _preflight_only(recipe_obj, request, args, simulate, output)
        return
    engine = make_engine(simulate, request.backend)
    engine.check_available()
    if saved is not None and saved.engine != engine.name:
        from provisioner.errors import InputError

        raise InputError(f"the plan was made with the {saved.engine} engine, not {engine.name} (--simulate decides)")
    registry = open_registry()
    if request.env == "prod" and not plan and not yes:
        _confirm_prod(request.stack_name, "deploys to PRODUCTION")
    if simulate and output is OutputFormat.table:
        info(SIMULATION_BANNER)
    if simulate or plan:
        from provisioner.cli.facts import warn_if_stale

        warn_if_stale()
    verb = "Previewing" if plan else "Deploying"
    from provisioner.interrupt import OperationInterrupted, graceful_sigint

    drift = None
    if refresh:
        from provisioner.run_history import keep_drift_check, now

        started = now()
        drift = engine.drift(request, recipe_obj)
        keep_drift_check(registry, request, engine=engine.name, simulated=engine.simulated, started_at=started, drifted=len(drift))
    try:
        with graceful_sigint(), _sink(output, f"{verb} {request.stack_name}") as sink:
            outcome = deploy(
                recipe_obj, request, args, engine, registry, sink, preview=plan, show_secrets=show_secrets,
                preflight=not no_preflight, allow_data_replacement=allow_data_replacement,
                expect_plan=_plan_holds(saved, from_plan) if saved is not None else None,
                update_plan=saved.update_plan if saved is not None else None, want_update_plan=save is not None,
            )
    except (KeyboardInterrupt, OperationInterrupted):
        _interrupted(engine, request, "deploy", _command("deploy-stack", recipe, request, simulate, backend))
    if zenml_target is not None and outcome.registered is not None:
        outcome.zenml_push = _push_after_deploy(registry, request.stack_name, zenml_target)
    outcome.drift = drift
    if save is not None:
        _write_plan(save, engine.name, request, args, outcome)
    if output is OutputFormat.json:
        print_json(outcome)
    else:
        from provisioner.cli._summary import print_deploy_summary, print_drift

        if drift is not None:
            print_drift(drift, request.stack_name)
        print_deploy_summary(outcome, show_same=show_same)
    if drift:
        raise typer.Exit(1)


def _check_plan_options(
    plan: bool, save: Optional[Path], from_plan: Optional[Path], recipe: str, env: str, config_file: Optional[Path],
    sets: Optional[list[str]], region: Optional[str], name: Optional[str],
) -> Any:
    """Refuse contradictory plan options before anything runs; the saved plan when --from-plan is given."""
    from provisioner.errors import InputError

    if save is not None:
        if not plan:
            raise InputError("--save goes with --plan")
        from provisioner.paths import check_new_file

        check_new_file(save)
    if from_plan is None:
        return None
    if plan:
        raise InputError("--from-plan applies a saved plan; it doesn't go with --plan")
    if config_file or sets or region or name:
        raise InputError("--from-plan takes the settings, region and name from the plan: drop --file, --set, --region and --name")
    from provisioner import saved_plan

    saved = saved_plan.load(from_plan)
    if (saved.recipe, saved.env) != (recipe, env):
        raise InputError(f"{from_plan} is a plan for {saved.recipe} --env {saved.env}, not {recipe} --env {env}")
    return saved


def _resolve_saved(saved: Any, backend: Optional[str], context: Optional[str]) -> Any:
    """The recipe, request and settings a saved plan was made with."""
    from pydantic import ValidationError

    from provisioner.errors import InputError

    recipe_obj, request, _ = resolve(saved.recipe, saved.env, config_file=None, sets=None, region=saved.region,
                                     name=saved.stack, backend=backend, context=context)
    request = request.model_copy(update={"planned_deployment_id": saved.deployment_id})
    try:
        args = recipe_obj.args_model.model_validate(saved.args)
    except ValidationError as exc:
        raise InputError(f"the plan's settings no longer fit the {saved.recipe} recipe: {exc.errors()[0]['msg']}") from None
    return recipe_obj, request, args


def _plan_holds(saved: Any, path: Path) -> Any:
    def check(records: Any) -> None:
        from provisioner import saved_plan
        from provisioner.errors import InputError

        changed = saved_plan.differences(saved, records)
        if changed:
            more = f" (and {len(changed) - 3} more)" if len(changed) > 3 else ""
            raise InputError(f"the program would now do something else than {path}: {'; '.join(changed[:3])}{more}; "
                             "nothing was changed (make a new plan)")
    return check


def _write_plan(path: Path, engine: str, request: Any, args: Any, outcome: Any) -> None:
    import json as json_module

    from provisioner import saved_plan
    from provisioner.paths import create_new_file

    document = saved_plan.build(engine, request.recipe, request.env, request.region, request.stack_name,
                                args.model_dump(mode="json"), outcome.resources, outcome.update_plan, outcome.deployment_id)
    create_new_file(path, (json_module.dumps(document.model_dump(mode="json"), indent=1) + "\n").encode())
    info(f"Saved the plan to {path}; apply exactly it with: deploy-stack {request.recipe} --env {request.env} --from-plan {path}")


def _zenml_target(push: bool, url: Optional[str], project: str, *, plan: bool) -> Any:
    """Where --push-zenml goes, checked (reachable, tested version, credentials, project) before anything is deployed."""
    from provisioner.errors import InputError

    if not push:
        if url is not None:
            raise InputError("--zenml-url goes with --push-zenml")
        return None
    if plan:
        raise InputError("--push-zenml doesn't go with --plan: a plan registers nothing to push")
    from provisioner.zenml.client import ZenMLClient, ZenMLTarget

    target = ZenMLTarget.from_options(url, project)
    ZenMLClient(target).close()
    return target


def _push_after_deploy(registry: Any, stack_name: str, target: Any) -> dict[str, Any]:
    """Push the stack just registered; a failure keeps the deploy and says how to push again."""
    from provisioner.errors import OperationFailedError, ProvisionerError
    from provisioner.zenml.push import push_stack

    try:
        report = push_stack(registry, stack_name, target)
    except ProvisionerError as exc:
        raise OperationFailedError(
            f"deployed and registered {stack_name!r}, but the ZenML push failed: {exc} "
            f"(retry: provisioner stack push {stack_name} --zenml-url {target.url} --zenml-project {target.project})"
        ) from None
    info(report.summary())
    return {"url": report.url, "project": report.project, "created": report.created, "updated": report.updated,
            "unchanged": report.unchanged, "deleted": report.deleted}


@destroy_app.command(context_settings=EXTRA_WORDS)
@report_errors
def destroy_stack(
    ctx: typer.Context,
    recipe: RecipeArgument,
    *,
    env: EnvOption = "dev",
    region: RegionOption = None,
    name: NameOption = None,
    config_file: FileOption = None,
    context: ContextOption = None,
    simulate: SimulateOption = False,
    backend: BackendOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    delete_data: Annotated[
        bool, typer.Option("--delete-data", help="Also delete buckets, databases and snapshots (kept by default in prod).")
    ] = False,
    keep_data: Annotated[bool, typer.Option("--keep-data", help="Keep buckets and databases, in any env.")] = False,
    adopt: Annotated[
        Optional[str],
        typer.Option(
            "--adopt", metavar="DEPLOYMENT_ID",
            help="Take over an orphaned deployment (its state is lost): delete only resources tagged with this id.",
        ),
    ] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Destroy an environment's resources, sweep what is left, and unregister it.

    Exits 1 with a report if anything billable is still there afterwards.
    """
    refuse_extra_words(ctx.args, "destroy-stack")
    from provisioner.cli._context import open_registry
    from provisioner.errors import InputError
    from provisioner.lifecycle import destroy

    if delete_data and keep_data:
        raise InputError("--delete-data and --keep-data contradict each other: choose one")
    from provisioner.lifecycle import refuse_env_crossing
    from provisioner.ownership import is_deployment_id

    if adopt is not None and not is_deployment_id(adopt):
        raise InputError(f"--adopt takes a deployment id (26 lowercase letters and digits), not {adopt!r}")
    recipe_obj, request, _args = resolve(
        recipe, env, config_file=config_file, sets=None, region=region, name=name, backend=backend, context=context
    )
    engine = make_engine(simulate, request.backend)
    engine.check_available()
    registry = open_registry()
    command = _command("destroy-stack", recipe, request, simulate, backend)
    refuse_env_crossing(recipe_obj, request, engine, registry, "destroy", adopt)
    if adopt is not None:
        _show_adoption(recipe_obj, request, engine, adopt, output)
    has_state = engine.ownership(request) is not None
    if not yes and (has_state or adopt is not None):
        if request.env == "prod":
            _confirm_prod(request.stack_name, "destroys PRODUCTION")
        elif ask(f"Destroy {request.stack_name} and unregister it? [y/N]:").lower() not in ("y", "yes"):
            raise InputError("not confirmed: nothing was destroyed")
    if simulate and output is OutputFormat.table:
        info(SIMULATION_BANNER)
    from provisioner.interrupt import OperationInterrupted, graceful_sigint

    try:
        with graceful_sigint(), _sink(output, f"Destroying {request.stack_name}") as sink:
            say = sink.note if output is OutputFormat.table else None
            outcome = destroy(
                recipe_obj, request, engine, registry, sink, delete_data=True if delete_data else None, keep_data=keep_data,
                say=say, adopt=adopt,
            )
    except (KeyboardInterrupt, OperationInterrupted):
        _interrupted(engine, request, "destroy", command)
    if output is OutputFormat.json:
        print_json({**outcome.model_dump(mode="json"), "clean": outcome.report.clean})
    else:
        from provisioner.cli._summary import print_destroy_summary

        print_destroy_summary(outcome, command)
    if not outcome.report.clean:
        from provisioner.errors import OperationFailedError

        if outcome.report.sweep_failure:
            raise OperationFailedError(f"{outcome.report.sweep_failure}; the registry still lists {request.stack_name}")
        cost = sum(item.monthly_cost or 0 for item in outcome.report.remaining)
        raise OperationFailedError(
            f"{len(outcome.report.remaining)} resource(s) of {request.stack_name} are still there "
            f"(about ${cost:.2f}/month known); the registry still lists the stack. Rerun destroy-stack, "
            "or delete them as the report says"
        )


def _refuse_preflight_combination(preflight: bool, *, no_preflight: bool, plan: bool, compare_envs: bool) -> None:
    """--preflight only checks: it goes with no flag that asks for more (or for no checks)."""
    from provisioner.errors import InputError

    clashes = [flag for flag, given in (("--no-preflight", no_preflight), ("--plan", plan), ("--compare-envs", compare_envs)) if given]
    if preflight and clashes:
        raise InputError(f"--preflight only runs the read-only checks: it does not go with {clashes[0]}")


def _preflight_only(recipe: Any, request: Any, args: Any, simulate: bool, output: OutputFormat) -> None:
    """Run the checks, show them, and exit 1 if one failed; nothing is created or written."""
    from provisioner.preflight.run import PreflightFailedError, failure_line, run_preflight

    recipe.check(args, simulated=simulate, region=request.region)
    report = run_preflight(recipe, request, args, simulated=simulate)
    if output is OutputFormat.json:
        print_json(report)
    else:
        if simulate:
            info(SIMULATION_BANNER)
        from provisioner.cli._output import print_table

        rows = [(check.name, check.status.value, check.detail, check.fix or "-") for check in report.checks]
        print_table(f"Preflight of {request.stack_name}", ["check", "status", "detail", "fix"], rows)
    if not report.passed:
        raise PreflightFailedError(failure_line(report))


def _compare_envs(
    recipe: str, config_file: Any, sets: Any, region: Any, context: Any, simulate: bool, backend: Any, output: OutputFormat
) -> None:
    """Plan every standard env of the recipe with the same inputs, and show them side by side."""
    from provisioner.cli._context import open_registry
    from provisioner.engine.base import NullSink
    from provisioner.lifecycle import deploy
    from provisioner.recipe_api import STANDARD_ENVS

    from provisioner.cli._summary import differing_settings, print_env_comparison

    registry = open_registry()
    outcomes = {}
    settings = {}
    for env in STANDARD_ENVS:
        recipe_obj, request, args = resolve(
            recipe, env, config_file=config_file, sets=sets, region=region, name=None, backend=backend, context=context,
            simulated=simulate,
        )
        settings[env] = _masked_settings(args)
        engine = make_engine(simulate, request.backend)
        outcomes[env] = deploy(recipe_obj, request, args, engine, registry, NullSink(), preview=True)
    from provisioner.cli.facts import warn_if_stale

    warn_if_stale()
    differing = differing_settings(settings)
    if output is OutputFormat.json:
        print_json({"envs": outcomes, "differing_settings": differing})
        return
    if simulate:
        info(SIMULATION_BANNER)
    print_env_comparison(outcomes, differing)


def _masked_settings(args: Any) -> dict[str, Any]:
    """The recipe's settings as plain values, secret ones masked (a comparison shows no secret)."""
    from provisioner.saved_plan import secret_settings_set
    from provisioner.secrets import MASK

    values: dict[str, Any] = args.model_dump(mode="json")
    for dotted in secret_settings_set(args):
        *parents, leaf = dotted.split(".")
        holder = values
        for part in parents:
            holder = holder[part]
        holder[leaf] = MASK
    return values


def _command(program: str, recipe: str, request: Any, simulate: bool, backend: Any) -> str:
    """The command line that reruns this operation (for the next-step hints)."""
    parts = [program, recipe, "--env", request.env]
    if request.stack_name != f"{recipe}-{request.env}":
        parts += ["--name", request.stack_name]
    if request.region:
        parts += ["--region", request.region]
    if backend:
        parts += ["--backend", backend]
    if simulate:
        parts.append("--simulate")
    return " ".join(parts)


def _interrupted(engine: Any, request: Any, operation: str, command: str) -> NoReturn:
    """Ctrl-C: the progress display has stopped; say what exists and what to run next, then exit 130."""
    import sys

    ownership = engine.ownership(request)
    made = len(ownership.resources) if ownership else 0
    pending = ownership.pending if ownership else 0
    print(
        f"interrupted: {request.stack_name} has {made} resource(s) in its state"
        + (f" and {pending} operation(s) whose result was not recorded" if pending else ""),
        file=sys.stderr,
    )
    destroy_command = command.replace("deploy-stack", "destroy-stack", 1)
    if operation == "deploy":
        print(f"next: rerun `{command}` to finish, or `{destroy_command}` to remove what exists", file=sys.stderr)
    else:
        print(f"next: rerun `{destroy_command}` to finish removing it", file=sys.stderr)
    raise typer.Exit(130)


def _show_adoption(recipe: Any, request: Any, engine: Any, deployment_id: str, output: OutputFormat) -> None:
    """List what --adopt would delete, before asking."""
    from provisioner.teardown.flow import adoption_candidates

    candidates = adoption_candidates(recipe, request, engine, deployment_id)
    if output is OutputFormat.json:
        return
    info(f"Deployment {deployment_id} of {request.stack_name}: {len(candidates)} resource(s) would be deleted:")
    for item in candidates:
        info(f"  {item.kind} {item.id}" + (" (data)" if item.data else ""))


def refuse_extra_words(words: list[str], command: str) -> None:
    """Refuse words after the recipe, saying which option was probably meant (``aws dev``: ``--env dev``)."""
    if not words:
        return
    from provisioner.errors import InputError
    from provisioner.recipe_api import STANDARD_ENVS

    first = words[0]
    if first in STANDARD_ENVS:
        hint = f"did you mean `--env {first}`?"
    elif first.lower() in ("true", "false", "yes", "no", "1", "0"):
        hint = "on/off options are flags: write the flag (`--simulate`) or leave it out, without a value"
    elif first.count("-") >= 1 and any(c.isdigit() for c in first) and first[:2].isalpha():
        hint = f"did you mean `--region {first}`?"
    else:
        hint = f"{command} takes one recipe; settings go in options (--env, --region, --set KEY=VALUE; see --help)"
    raise InputError(f"unexpected argument(s) {' '.join(words)}: {hint}")


def _confirm_prod(stack_name: str, what: str) -> None:
    """Prod needs the stack name typed (or --yes); anything else stops before anything happens."""
    from provisioner.errors import InputError

    typed = ask(f"This {what}. Type the stack name ({stack_name}) to go on:")  # no input at all is a refusal too
    if typed != stack_name:
        raise InputError(f"the typed name does not match {stack_name!r}: nothing was done (or pass --yes)")


def run_deploy() -> None:
    """Console-script entry point of deploy-stack."""
    from provisioner.cli._exit import run_then_exit

    run_then_exit(lambda: deploy_app(prog_name="deploy-stack"))


def run_destroy() -> None:
    """Console-script entry point of destroy-stack."""
    from provisioner.cli._exit import run_then_exit

    run_then_exit(lambda: destroy_app(prog_name="destroy-stack"))
