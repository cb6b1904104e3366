"""`provisioner stack ...`: group components into stacks."""

from typing import Annotated, Any, Optional

import typer

from provisioner.cli import _complete
from provisioner.cli._app import new_app
from provisioner.cli._context import open_registry
from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, ShowSecretsOption, info, render
from provisioner.cli._parsing import parse_pairs

app = new_app(help="Register and manage stacks.", no_args_is_help=True)


@app.command("register")
@report_errors
def register(
    name: Annotated[str, typer.Argument(help="Stack name.", autocompletion=_complete.stacks)],
    *,
    component: Annotated[
        list[str], typer.Option("--component", "-c", help="Component to include; repeat. One per type.")
    ],
    label: Annotated[Optional[list[str]], typer.Option("--label", "-l", help="KEY=VALUE label; repeat.")] = None,
    env: Annotated[Optional[str], typer.Option("--env", help="Environment; all components and connectors must match.")] = None,
) -> None:
    """Register a stack: at least an orchestrator and an artifact store, one component per type."""
    labels = parse_pairs(label or [], "--label", json_values=False)
    if env:
        labels["env"] = env
    stack = open_registry().register_stack(name, component, labels=labels)
    info(f"Registered stack {stack.name!r} with {len(stack.components)} components.")


@app.command("grant")
@report_errors
def grant(
    name: Annotated[str, typer.Argument(help="Stack name.", autocompletion=_complete.stacks)],
    user: Annotated[str, typer.Argument(help="User who may use it.")],
) -> None:
    """Restrict a stack (and its connectors) to named users, adding USER (admins only)."""
    users = open_registry().grant(name, user)
    info(f"Stack {name!r} is restricted to: {', '.join(users)}.")


@app.command("revoke")
@report_errors
def revoke(
    name: Annotated[str, typer.Argument(help="Stack name.", autocompletion=_complete.stacks)],
    user: Annotated[str, typer.Argument(help="User to remove.")],
) -> None:
    """Take USER off a stack's allowed users (admins only); with nobody left the stack is open again."""
    users = open_registry().revoke(name, user)
    info(f"Stack {name!r} is restricted to: {', '.join(users)}." if users else f"Stack {name!r} is no longer restricted.")


@app.command("list")
@report_errors
def list_stacks(*, output: OutputOption = OutputFormat.table) -> None:
    """List registered stacks; the active one is marked."""
    registry = open_registry()
    stacks = registry.list_stacks()
    active = registry.active_stack()
    rows = [("*" if s.name == active else "", s.name, s.components, s.labels) for s in stacks]
    render(stacks, output, "Stacks", ["active", "name", "components", "labels"], rows)


@app.command("describe")
@report_errors
def describe(
    name: Annotated[Optional[str], typer.Argument(help="Stack name; default: the active stack.", autocompletion=_complete.stacks)] = None,
    *,
    output: OutputOption = OutputFormat.table,
    show_secrets: ShowSecretsOption = False,
) -> None:
    """Show a stack's components with their configs and connectors."""
    from provisioner.errors import InputError

    registry = open_registry()
    name = name or registry.active_stack()
    if name is None:
        raise InputError("no stack named and no active stack set (provisioner stack set-active NAME)")
    detail = registry.describe_stack(name, show_secrets=show_secrets)
    rows = [
        (t, c.name, c.flavor, c.config, c.connector.name if c.connector else None)
        for t, c in detail.components.items()
    ]
    render(detail, output, f"Stack {detail.name}", ["type", "component", "flavor", "config", "connector"], rows)
    if output is OutputFormat.table:
        for line in _access_hints(detail):
            print(line)
    pushed = registry.zenml_push(name)
    if pushed is not None:
        info(f"Pushed to ZenML at {pushed['url']} (project {pushed['project']!r}) by {pushed['pushed_by']} at "
             f"{pushed['pushed_at']}: {len(pushed['objects'])} objects.")


@app.command("history")
@report_errors
def history(
    name: Annotated[str, typer.Argument(help="Stack name; destroyed stacks keep their history.", autocompletion=_complete.stacks)],
    *,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many runs, newest first.")] = 20,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Show a stack's deploys and destroys: who, when, how long, what changed, the cost estimated then."""
    runs = open_registry().runs(name, limit)
    rows = [
        (run.started_at.strftime("%Y-%m-%d %H:%M:%S"), run.kind, run.user, run.result, f"{run.seconds:.0f} s",
         ", ".join(f"{count} {op}" for op, count in sorted(run.counts.items())) or "-",
         "-" if run.monthly_cost_usd is None else f"${run.monthly_cost_usd:,.2f}/mo", run.error or "")
        for run in runs
    ]
    render(runs, output, f"History of {name}", ["started (UTC)", "kind", "user", "result", "took", "changes", "cost", "error"], rows)


def _access_hints(detail: Any) -> list[str]:
    """How to reach the stack's cluster, when its orchestrator runs on EKS through an AWS connector."""
    from provisioner.registry.models import ComponentType

    orchestrator = detail.components.get(ComponentType.ORCHESTRATOR)
    connector = orchestrator.connector if orchestrator is not None else None
    if connector is None or connector.type != "aws" or not orchestrator.config.get("kubernetes_context"):
        return []
    cluster, region = orchestrator.config["kubernetes_context"], connector.configuration.get("region")
    return [f"Cluster: aws eks update-kubeconfig --name {cluster} --region {region} --alias {cluster}"] if region else []


@app.command("set-active")
@report_errors
def set_active(name: Annotated[str, typer.Argument(help="Stack name.", autocompletion=_complete.stacks)]) -> None:
    """Make a stack the active one for this user."""
    open_registry().set_active_stack(name)
    info(f"Active stack: {name!r}.")


@app.command("delete")
@report_errors
def delete(name: Annotated[str, typer.Argument(help="Stack name.", autocompletion=_complete.stacks)]) -> None:
    """Delete a stack; its components stay registered."""
    open_registry().delete_stack(name)
    info(f"Deleted stack {name!r}.")


# ----- export and import ------------------------------------------------------------------------
# Kept below the other commands; provisioner.exports is imported inside the commands so that
# starting the CLI loads no database engine.

import sys  # noqa: E402
from enum import Enum  # noqa: E402
from pathlib import Path  # noqa: E402


class StackFileFormat(str, Enum):
    """What ``stack export`` writes (the values of provisioner.exports.format.ExportFormat)."""

    zenml = "zenml"
    yaml = "yaml"
    json = "json"


@app.command("export")
@report_errors
def export(
    name: Annotated[str, typer.Argument(help="Stack name.", autocompletion=_complete.stacks)],
    *,
    file_format: Annotated[
        StackFileFormat,
        typer.Option(
            "--format",
            help="yaml or json: provisioner's own format, for `stack import`; zenml: for `zenml stack import`.",
            case_sensitive=False,
        ),
    ],
    file: Annotated[Optional[Path], typer.Option("--file", "-f", dir_okay=False, help="Write here instead of stdout.")] = None,
    secrets_script: Annotated[
        Optional[Path],
        typer.Option(
            "--secrets-script",
            dir_okay=False,
            help="zenml only: write the `zenml secret create` commands to this file (mode 0700) instead of stderr.",
        ),
    ] = None,
    show_secrets: Annotated[
        bool,
        typer.Option("--show-secrets", help="zenml only: put real secret values in the secret commands, not placeholders."),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace --file / --secrets-script if they exist.")] = False,
) -> None:
    """Export a stack, its components and connectors; secret values are never in the export itself."""
    from provisioner.errors import InputError
    from provisioner.exports import format as export_format
    from provisioner.exports import zenml
    from provisioner.paths import check_new_file, create_new_file

    for target in (file, secrets_script):
        if target is not None:
            check_new_file(target, force=force)
    registry = open_registry()
    script: Optional[str] = None
    if file_format is StackFileFormat.zenml:
        text = zenml.dump_zenml(zenml.zenml_export(registry, name))
        secrets = zenml.zenml_secrets(registry, name, show_values=show_secrets)
        script = zenml.secrets_script(name, secrets) if secrets or secrets_script else None
    else:
        if secrets_script is not None or show_secrets:
            raise InputError(
                "--secrets-script and --show-secrets go with --format zenml: yaml and json exports hold "
                "secret references only, and `stack import` checks that those secrets exist"
            )
        document = export_format.export_stack(registry, name)
        text = export_format.dump_export(document, export_format.ExportFormat(file_format.value))
    if file is None:
        sys.stdout.write(text)
    else:
        create_new_file(file, text.encode(), force=force)
        info(f"Exported stack {name!r} ({file_format.value}) to {file}.")
    if script is not None and secrets_script is not None:
        create_new_file(secrets_script, script.encode(), force=force, mode=0o700)
        info(f"Wrote the `zenml secret create` commands to {secrets_script}.")
    elif script is not None:
        sys.stderr.write(script)


@app.command("import")
@report_errors
def import_stack(
    file: Annotated[str, typer.Argument(help="A `stack export --format yaml|json` file; - reads stdin.")],
    *,
    name: Annotated[Optional[str], typer.Option(
        "--name", help="Register it as this stack: its connectors and components get the new stack's prefix too.")] = None,
) -> None:
    """Re-create an exported stack with its components and connectors; all or nothing.

    Refused, with nothing written, when a name is taken or a referenced secret is missing.
    Importing connectors needs the admin role.
    """
    from provisioner.errors import InputError
    from provisioner.exports.format import load_export
    from provisioner.exports.importing import import_stack as run_import

    if file == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(file).read_text()
        except OSError as exc:
            raise InputError(f"cannot read {file}: {exc.strerror or exc}") from None
    document = load_export(text, "standard input" if file == "-" else file)
    result = run_import(open_registry(), document, name=name)
    info(
        f"Imported stack {result.stack!r}: {len(result.components)} component(s), "
        f"{len(result.connectors)} connector(s)."
    )
    for note in result.notes:
        info(note)


@app.command("push")
@report_errors
def push(
    name: Annotated[str, typer.Argument(help="Stack name.", autocompletion=_complete.stacks)],
    *,
    zenml_url: Annotated[
        Optional[str], typer.Option("--zenml-url", help="ZenML server URL (default: $ZENML_STORE_URL).", show_default=False)
    ] = None,
    zenml_project: Annotated[str, typer.Option("--zenml-project", help="ZenML project that must exist there.")] = "default",
    source_secret: Annotated[
        Optional[str],
        typer.Option("--zenml-source-secret", help="Secret with source credentials for ZenML's connector "
                     "(aws: aws_access_key_id, aws_secret_access_key; gcp: service_account_json)."),
    ] = None,
    allow_untested: Annotated[
        bool, typer.Option("--allow-untested-zenml", help="Push to a ZenML server release this version wasn't tested with.")
    ] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Create or update the stack in a running ZenML server: its secrets, connector, components and stack (admins only).

    Credentials come from ZENML_STORE_API_KEY, or ZENML_STORE_USERNAME and ZENML_STORE_PASSWORD.
    Idempotent; a same-named ZenML object this registry didn't push is never touched (exit 2).
    """
    from provisioner.zenml.client import ZenMLTarget
    from provisioner.zenml.push import push_stack

    target = ZenMLTarget.from_options(zenml_url, zenml_project)
    report = push_stack(open_registry(), name, target, source_secret=source_secret, allow_untested=allow_untested)
    if output is OutputFormat.json:
        from provisioner.cli._output import print_json

        print_json({"url": report.url, "project": report.project, "changed": report.changed, "created": report.created,
                    "updated": report.updated, "deleted": report.deleted, "unchanged": report.unchanged})
    else:
        info(report.summary())


@app.command("unpush")
@report_errors
def unpush(name: Annotated[str, typer.Argument(help="Stack name.", autocompletion=_complete.stacks)]) -> None:
    """Remove from ZenML what `stack push` created for this stack, and nothing else (admins only)."""
    from provisioner.zenml.push import unpush_stack

    deleted = unpush_stack(open_registry(), name)
    info(f"Removed from ZenML: {', '.join(deleted)}." if deleted else f"Nothing of stack {name!r} is pushed to ZenML.")


@app.command("drift")
@report_errors
def drift(
    name: Annotated[str, typer.Argument(help="Stack name (deployed by deploy-stack).")],
    *,
    simulate: Annotated[bool, typer.Option("--simulate", help="Compare with the emulators (as the deploy was simulated).")] = False,
    region: Annotated[Optional[str], typer.Option("--region", help="The region it was deployed to, if not the recipe's default.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Compare the cloud with the stack's recorded state: exit 1 when something changed outside provisioner."""
    from provisioner.cli._deploy_common import make_engine, resolve
    from provisioner.errors import InputError
    from provisioner.run_history import keep_drift_check, now

    registry = open_registry()
    labels = registry.get_stack(name).labels
    recipe, env = labels.get("recipe"), labels.get("env")
    if not recipe or not env:
        raise InputError(f"stack {name!r} was not deployed by deploy-stack (it has no recipe and env labels): nothing to compare")
    recipe_obj, request, _ = resolve(recipe, env, config_file=None, sets=None, region=region, name=name, backend=None)
    engine = make_engine(simulate, request.backend)
    engine.check_available()
    started = now()
    found = engine.drift(request, recipe_obj)
    keep_drift_check(registry, request, engine=engine.name, simulated=engine.simulated, started_at=started, drifted=len(found))
    if output is OutputFormat.json:
        from provisioner.cli._output import print_json

        print_json({"stack": name, "drift": [item.model_dump(mode="json") for item in found]})
    else:
        from provisioner.cli._summary import print_drift

        print_drift(found, name)
    if found:
        raise typer.Exit(1)
