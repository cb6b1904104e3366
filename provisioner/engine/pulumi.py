"""The real engine: the Pulumi CLI driven through ``pulumi.automation``.

One Pulumi project per recipe (``provisioner-<recipe>``), one stack per env, a self-managed
backend (``file://`` in the provisioner home unless --backend says otherwise), and secrets
encrypted with a passphrase.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from provisioner.config import DeployRequest
from provisioner.engine.base import (
    CredentialsError,
    DriftItem,
    EngineResult,
    EngineUnavailableError,
    Op,
    OwnedResource,
    Ownership,
    OutputValue,
    ProgressSink,
    ResourceRecord,
    ResourcesFailedError,
)
from provisioner.errors import OperationFailedError, StackLockedError
from provisioner.recipe_api import Recipe, RecipeArgs
from provisioner.retention import Node, kept_keys

PASSPHRASE_ENV = "PULUMI_CONFIG_PASSPHRASE"
INSTALL_HINT = (
    "the Pulumi CLI is not installed or not on PATH: install it "
    "(curl -fsSL https://get.pulumi.com | sh, or see https://www.pulumi.com/docs/install/), "
    "or try the whole flow without a cloud account using --simulate"
)
CREDENTIAL_PATTERNS = re.compile(
    r"(NoCredentialProviders|no valid credential sources|could not find default credentials|"
    r"InvalidClientTokenId|ExpiredToken|SignatureDoesNotMatch|UnrecognizedClientException|"
    r"failed to refresh cached credentials|unable to load credentials|Unable to locate credentials|"
    r"invalid_grant|Reauthentication is needed)",
    re.IGNORECASE,
)
_SKIPPED_TYPES = ("pulumi:pulumi:Stack",)


# Stack config keys provisioner keeps next to the recipe's args.
DEPLOYMENT_ID_CONFIG = "provisioner:deploymentId"
ENV_CONFIG = "provisioner:env"


def project_name(recipe: str) -> str:
    return f"provisioner-{recipe}"


def passphrase() -> str:
    """PULUMI_CONFIG_PASSPHRASE if set, else one generated on first use and kept 0600 in the home."""
    given = os.environ.get(PASSPHRASE_ENV)
    if given:
        return given
    from provisioner.paths import home, write_private_file

    path = home() / "pulumi-passphrase"
    if not path.exists():
        write_private_file(path, secrets.token_urlsafe(32).encode())
    return path.read_text().strip()


def default_backend_url() -> str:
    from provisioner.paths import home, private_dir

    state = home() / "state"
    private_dir(state)
    return f"file://{state}"


class _EventCollector:
    """Turns engine events into progress calls and resource records."""

    def __init__(self, sink: ProgressSink, preview: bool) -> None:
        self.sink = sink
        self.preview = preview
        self.records: dict[str, ResourceRecord] = {}
        self.diffs: dict[str, list[str]] = {}  # the properties each step changes (StepEventMetadata.diffs)
        self.errors: dict[str, list[str]] = {}
        self.general_errors: list[str] = []
        self._started: dict[str, float] = {}

    def __call__(self, event: Any) -> None:
        # The CLI stamps each event in whole seconds; without a stamp, when it arrived (events stream live).
        now = float(getattr(event, "timestamp", 0) or 0) or time.time()
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            if meta.type in _SKIPPED_TYPES or meta.type.startswith("pulumi:providers:"):
                return
            op = _op(meta.op)
            new_state = getattr(meta, "new", None)
            planned = getattr(new_state, "inputs", None)
            # For a replacement Pulumi names the keys that force it (StepEventMetadata.keys).
            keys = list(getattr(meta, "keys", None) or []) if op is Op.REPLACE else []
            self.diffs[meta.urn] = list(getattr(meta, "diffs", None) or [])
            self.records[meta.urn] = ResourceRecord(
                urn=meta.urn, type=meta.type, name=_name(meta.urn), op=op, inputs=dict(planned) if planned else None,
                message=f"{', '.join(keys)} changed: replaced" if keys else None,
                forced_by=keys[0] if keys else None, parent=getattr(new_state, "parent", None) or None,
            )
            if not self.preview:
                self._started[meta.urn] = now
                self.sink.started(meta.urn, meta.type, op)
        elif event.res_outputs_event is not None:
            meta = event.res_outputs_event.metadata
            if meta.urn in self.records and not self.preview:
                if meta.urn in self._started:
                    self.records[meta.urn].seconds = max(0.0, now - self._started[meta.urn])
                self.sink.finished(meta.urn, meta.type, self.records[meta.urn].op)
        elif event.diagnostic_event is not None:
            diagnostic = event.diagnostic_event
            if diagnostic.severity == "error":
                message = " ".join(diagnostic.message.split())
                if diagnostic.urn:
                    self.errors.setdefault(diagnostic.urn, []).append(message)
                else:
                    self.general_errors.append(message)
        elif event.res_op_failed_event is not None:
            meta = event.res_op_failed_event.metadata
            record = self.records.setdefault(
                meta.urn, ResourceRecord(urn=meta.urn, type=meta.type, name=_name(meta.urn), op=_op(meta.op))
            )
            record.failed = True
            record.message = "; ".join(self.errors.get(meta.urn, [])) or "failed"
            self.sink.failed(meta.urn, meta.type, record.message)

    def failures(self) -> list[ResourceRecord]:
        for urn, messages in self.errors.items():
            record = self.records.get(urn)
            if record is not None and not record.failed:
                record.failed = True
                record.message = "; ".join(messages)
        return [r for r in self.records.values() if r.failed]


def _op(value: Any) -> Op:
    raw = getattr(value, "value", value)
    mapping = {"create-replacement": Op.REPLACE, "delete-replaced": Op.DELETE, "replace": Op.REPLACE}
    try:
        return mapping.get(raw) or Op(raw)
    except ValueError:
        return Op.UPDATE


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


class PulumiEngine:
    """Drives the Pulumi CLI. ``pulumi_command`` lets tests inject a fake CLI."""

    name = "pulumi"
    simulated = False

    def __init__(self, backend_url: str | None = None, pulumi_command: Any = None, work_root: Path | None = None) -> None:
        self._backend_url = backend_url
        self._command = pulumi_command
        self._work_root = work_root

    # ----- setup ---------------------------------------------------------------------------

    def check_available(self) -> None:
        """Find the CLI (and check its version) before anything is created or registered."""
        if self._command is not None:
            return
        if shutil.which("pulumi") is None:
            raise EngineUnavailableError(INSTALL_HINT)
        from pulumi.automation import PulumiCommand

        try:
            self._command = PulumiCommand()
        except FileNotFoundError:
            raise EngineUnavailableError(INSTALL_HINT) from None
        except Exception as exc:
            raise EngineUnavailableError(f"the Pulumi CLI cannot be used: {' '.join(str(exc).split())}") from None

    @property
    def backend_url(self) -> str:
        return self._backend_url or default_backend_url()

    def _work_dir(self, project: str) -> str:
        from provisioner.paths import home, private_dir

        path = (self._work_root or home() / "pulumi") / project
        private_dir(path)
        return str(path)

    def _workspace_options(self, project: str) -> Any:
        from pulumi import automation as auto

        return auto.LocalWorkspaceOptions(
            work_dir=self._work_dir(project),
            pulumi_command=self._command,
            env_vars={PASSPHRASE_ENV: passphrase(), "PULUMI_SKIP_UPDATE_CHECK": "true"},
            project_settings=auto.ProjectSettings(
                name=project, runtime="python", backend=auto.ProjectBackend(url=self.backend_url)
            ),
        )

    def _stack(self, request: DeployRequest, program: Callable[[], None], *, create: bool) -> Any:
        from pulumi import automation as auto

        project = project_name(request.recipe)
        opts = self._workspace_options(project)
        with self._translated(request):
            if create:
                return auto.create_or_select_stack(
                    stack_name=request.pulumi_stack, project_name=project, program=program, opts=opts
                )
            return auto.select_stack(stack_name=request.pulumi_stack, project_name=project, program=program, opts=opts)

    def _deployment_id(self, stack: Any) -> str | None:
        """The deployment id kept in the stack's config, if it has one."""
        from pulumi.automation import CommandError

        try:
            return str(stack.get_config(DEPLOYMENT_ID_CONFIG).value) or None
        except CommandError:
            return None

    def _configure(self, stack: Any, request: DeployRequest, recipe: Recipe, args: RecipeArgs, deployment_id: str) -> None:
        """Write the recipe's args as stack config (secret fields as secret config) and install plugins."""
        from pulumi import automation as auto

        project = project_name(request.recipe)
        secret_fields = args.secret_fields()
        config: dict[str, Any] = {
            DEPLOYMENT_ID_CONFIG: auto.ConfigValue(value=deployment_id),
            ENV_CONFIG: auto.ConfigValue(value=request.env),
        }
        for key, value in args.model_dump(mode="json").items():
            text = value if isinstance(value, str) else json.dumps(value)
            config[f"{project}:{key}"] = auto.ConfigValue(value=text, secret=key in secret_fields)
        request_values = {"region": request.region}
        for config_key, source in recipe.provider_config_keys.items():
            if request_values.get(source):
                config[config_key] = auto.ConfigValue(value=str(request_values[source]))
        with self._translated(request):
            stack.set_all_config(config)
            for plugin in recipe.plugins:
                try:
                    plugin_version = version(plugin.distribution)
                except PackageNotFoundError:
                    raise EngineUnavailableError(
                        f"recipe {recipe.name!r} needs the Python package {plugin.distribution!r}: pip install it"
                    ) from None
                stack.workspace.install_plugin(plugin.name, f"v{plugin_version}")

    # ----- operations ----------------------------------------------------------------------

    def up(
        self, request: DeployRequest, recipe: Recipe, args: RecipeArgs, *, preview: bool, sink: ProgressSink,
        update_plan: Path | None = None,
    ) -> EngineResult:
        from provisioner.ownership import new_deployment_id
        from provisioner.recipe_api import run_program

        project = project_name(request.recipe)
        holder: dict[str, Any] = {"pinned": {}}
        stack = self._stack(
            request,
            lambda: run_program(
                recipe, args, request.context(deployment_id=holder["id"], previous_outputs=holder["pinned"]), project,
                request.pulumi_stack,
            ),
            create=True,
        )
        with self._translated(request):
            existing = self._deployment_id(stack)
            holder["id"] = existing or request.planned_deployment_id or new_deployment_id()
            if existing and recipe.pinned_outputs:  # only a deployed stack has outputs to reuse
                holder["pinned"] = {k: v.value for k, v in stack.outputs().items() if k in recipe.pinned_outputs}
        self._configure(stack, request, recipe, args, holder["id"])
        collector = _EventCollector(sink, preview)
        with self._translated(request, collector):
            plan = str(update_plan) if update_plan is not None else None
            if preview:
                stack.preview(on_event=collector, color="never", plan=plan)  # --save-plan
                outputs: dict[str, OutputValue] = {}
            else:
                result = stack.up(on_event=collector, color="never", plan=plan)  # --plan: Pulumi refuses what it doesn't say
                outputs = {k: OutputValue(value=v.value, secret=v.secret) for k, v in result.outputs.items()}
        return EngineResult(
            engine=self.name, simulated=False, preview=preview, resources=list(collector.records.values()), outputs=outputs,
            deployment_id=holder["id"],
        )

    def drift(self, request: DeployRequest, recipe: Recipe) -> list[DriftItem]:
        """`pulumi refresh --preview-only`: what the refresh would change in the state is what drifted."""
        from provisioner.engine.base import NullSink

        stack = self._stack(request, lambda: None, create=False)
        collector = _EventCollector(NullSink(), preview=True)
        with self._translated(request, collector):
            stack.preview_refresh(on_event=collector, color="never")
        found = []
        for record in collector.records.values():
            if record.op in (Op.DELETE, Op.UPDATE, Op.REPLACE):
                kind = "deleted" if record.op is Op.DELETE else "changed"
                changed = collector.diffs.get(record.urn) or [None]
                found.extend(DriftItem(urn=record.urn, type=record.type, name=record.name, kind=kind, property=prop)
                             for prop in changed)
        return found

    def destroy(self, request: DeployRequest, recipe: Recipe, *, sink: ProgressSink, retain_data: bool = False) -> EngineResult:
        """Destroy the stack; with ``retain_data``, protect the data and what it needs, and destroy the rest."""
        stack = self._stack(request, lambda: None, create=False)
        collector = _EventCollector(sink, preview=False)
        kept: list[ResourceRecord] = []
        with self._translated(request, collector):
            resources = self._recover_pending(stack, sink)
            if retain_data and recipe.retention is not None:
                nodes = [Node(r["urn"], r["type"], frozenset(r.get("dependencies") or [])) for r in resources if r.get("custom")]
                keep = sorted(kept_keys(nodes, recipe.retention))
                if keep:
                    self._cli(stack, ["state", "protect", "--stack", request.pulumi_stack, "--yes", *keep])
                by_urn = {r["urn"]: r for r in resources}
                kept = [
                    ResourceRecord(urn=urn, type=by_urn[urn]["type"], name=_name(urn), op=Op.SAME, message=str(by_urn[urn].get("id", "")))
                    for urn in keep
                ]
                stack.destroy(on_event=collector, color="never", exclude_protected=True)
            else:
                self._cli(stack, ["state", "unprotect", "--all", "--stack", request.pulumi_stack, "--yes"])
                stack.destroy(on_event=collector, color="never")
        return EngineResult(
            engine=self.name, simulated=False, preview=False, resources=list(collector.records.values()), kept=kept
        )

    def _recover_pending(self, stack: Any, sink: ProgressSink) -> list[dict[str, Any]]:
        """Clear pending operations an interrupted run left in the state; return the state's resources."""
        exported = stack.export_stack()
        deployment = exported.deployment or {}
        pending = deployment.get("pending_operations") or []
        if pending:
            sink.note(f"Clearing {len(pending)} pending operation(s) left by an interrupted run.")
            deployment["pending_operations"] = []
            stack.import_stack(exported)
        resources: list[dict[str, Any]] = deployment.get("resources") or []
        return resources

    @staticmethod
    def _cli(stack: Any, args: list[str]) -> None:
        workspace = stack.workspace
        workspace.pulumi_command.run(args, workspace.work_dir, dict(workspace.env_vars or {}))

    def remove_stack(self, request: DeployRequest) -> None:
        from pulumi import automation as auto

        project = project_name(request.recipe)
        workspace = auto.LocalWorkspace(**_workspace_kwargs(self._workspace_options(project)))
        with self._translated(request):
            workspace.remove_stack(request.pulumi_stack)

    def has_stack(self, request: DeployRequest) -> bool:
        from pulumi.automation import StackNotFoundError

        try:
            self._stack(request, lambda: None, create=False)
        except StackNotFoundError:
            return False
        return True

    def ownership(self, request: DeployRequest) -> Ownership | None:
        """The deployment id, env and resources the stack's state holds (None without state)."""
        from pulumi.automation import CommandError, StackNotFoundError

        try:
            stack = self._stack(request, lambda: None, create=False)
        except StackNotFoundError:
            return None
        with self._translated(request):
            deployment = stack.export_stack().deployment or {}
            try:
                env = str(stack.get_config(ENV_CONFIG).value)
            except CommandError:
                env = None
            return Ownership(
                deployment_id=self._deployment_id(stack),
                env=env,
                resources=[
                    OwnedResource(type=r["type"], id=str(r.get("id") or ""), urn=r["urn"])
                    for r in deployment.get("resources") or [] if r.get("custom") and r.get("id")
                ],
                pending=len(deployment.get("pending_operations") or []),
            )

    def outputs(self, request: DeployRequest, recipe: Recipe) -> dict[str, OutputValue]:
        stack = self._stack(request, lambda: None, create=False)
        with self._translated(request):
            return {k: OutputValue(value=v.value, secret=v.secret) for k, v in stack.outputs().items()}

    # ----- errors --------------------------------------------------------------------------

    @contextmanager
    def _translated(self, request: DeployRequest, collector: _EventCollector | None = None) -> Iterator[None]:
        """Map Automation API errors to provisioner errors with a clear message."""
        from pulumi.automation import CommandError, ConcurrentUpdateError, StackNotFoundError

        from provisioner import interrupt

        try:
            yield
        except StackNotFoundError:
            raise
        except ConcurrentUpdateError as exc:
            holders = [line.strip() for line in str(exc).splitlines() if "created by" in line]
            who = f" ({'; '.join(holders)})" if holders else ""
            raise StackLockedError(
                f"stack {project_name(request.recipe)}/{request.pulumi_stack} is locked by another run{who}; "
                f"if no other run is active, clear it with: provisioner unlock {request.recipe} --env {request.env}"
            ) from None
        except CommandError as exc:
            interrupt.check()  # Ctrl-C reaches the Pulumi CLI too (same process group): it cancels, then fails
            text = str(exc)  # the CommandResult: code, stdout and stderr
            failures = collector.failures() if collector else []
            credential = CREDENTIAL_PATTERNS.search(text + " ".join(r.message or "" for r in failures))
            if credential:
                raise CredentialsError(
                    f"cloud credentials are missing or invalid ({credential.group(1)}): "
                    "configure them (aws configure, gcloud auth application-default login) and retry"
                ) from None
            if failures:
                raise ResourcesFailedError(failures) from None
            raise OperationFailedError(f"pulumi failed: {_first_error(text, collector)}") from None


def _first_error(text: str, collector: _EventCollector | None) -> str:
    if collector and collector.general_errors:
        return collector.general_errors[0]
    for line in text.splitlines():
        if line.strip().startswith("error:"):
            return line.strip().removeprefix("error:").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def _workspace_kwargs(options: Any) -> dict[str, Any]:
    return {
        "work_dir": options.work_dir,
        "pulumi_command": options.pulumi_command,
        "env_vars": options.env_vars,
        "project_settings": options.project_settings,
    }


def lock_files(backend_url: str, recipe: str, pulumi_stack: str) -> list[Path]:
    """The lock files of a stack on a file:// backend."""
    if not backend_url.startswith("file://"):
        raise OperationFailedError(
            f"provisioner unlock clears locks on file:// backends only; for {backend_url} delete "
            f".pulumi/locks/organization/{project_name(recipe)}/{pulumi_stack}/ in the bucket"
        )
    root = Path(backend_url.removeprefix("file://")).expanduser() / ".pulumi" / "locks"
    folders = [root / "organization" / project_name(recipe) / pulumi_stack, root / pulumi_stack]
    return sorted(path for folder in folders if folder.is_dir() for path in folder.glob("*.json"))
