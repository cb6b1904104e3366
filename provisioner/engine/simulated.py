"""The simulated engine: the same recipe program, in-process under Pulumi mocks backed by emulators.

It never touches a real cloud: AWS calls go to in-process moto, or to the moto server named by
AWS_ENDPOINT_URL, always with fake credentials.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from provisioner.config import DeployRequest
from provisioner.engine.base import (
    DriftItem,
    EngineResult,
    Op,
    OwnedResource,
    Ownership,
    OutputValue,
    ProgressSink,
    ResourceRecord,
    ResourcesFailedError,
)
from provisioner.engine.diff import replacing_property
from provisioner.engine.emulators import EmulationContext, handler_for
from provisioner.errors import InputError
from provisioner.guardrails import violations
from provisioner.engine.simulated_state import PendingOperation, SimulatedResource, SimulatedStackState, SimulatedStateStore
from provisioner.recipe_api import Recipe, RecipeArgs, cloud_of, run_program
from provisioner.retention import Node, identity_values, kept_keys

FAIL_ENV = "PROVISIONER_SIMULATE_FAIL"
BIND_TIMEOUT_ENV = "PROVISIONER_SIMULATED_BIND_TIMEOUT"
PVC_TYPE = "kubernetes:core/v1:PersistentVolumeClaim"
STORAGE_CLASS_TYPE = "kubernetes:storage.k8s.io/v1:StorageClass"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
# Test hooks: kill -9 this process right after the create (or delete) call of the named resource
# (name or type) returned, before its result is recorded: the worst moment for a crash.
KILL_AFTER_CREATE_ENV = "PROVISIONER_TEST_KILL_AFTER_CREATE"
KILL_AFTER_DELETE_ENV = "PROVISIONER_TEST_KILL_AFTER_DELETE"


def _kill_here_if(hook_env: str, name: str, resource_type: str) -> None:
    wanted = os.environ.get(hook_env)
    if wanted and wanted in (name, resource_type):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def project_name(recipe: str) -> str:
    return f"provisioner-{recipe}"


@contextmanager
def aws_emulation(region: str) -> Iterator[str]:
    """Route boto3 to moto with fake credentials; yields where the resources live."""
    saved = {key: os.environ.get(key) for key in [*FAKE_CREDENTIALS, "AWS_DEFAULT_REGION", "AWS_PROFILE"]}
    os.environ.update(FAKE_CREDENTIALS)
    os.environ["AWS_DEFAULT_REGION"] = region
    os.environ.pop("AWS_PROFILE", None)
    try:
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            from provisioner.engine.emulators.aws_iam import require_managed_policies

            require_managed_policies(region, endpoint)
            yield f"moto server at {endpoint}"
        else:
            from moto import mock_aws

            from provisioner.engine.emulators.moto_lean import lean_moto

            with lean_moto(), mock_aws():
                yield "in-process moto (gone when this command ends; set AWS_ENDPOINT_URL to keep it)"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_SECRET_SIGNATURE = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")
# How a plan shows an input whose value exists only once another resource is made (an id, an ARN).
UNKNOWN_INPUT = "(known after deploy)"


def _as_stored(values: dict[str, Any]) -> Any:
    """``values`` as they read back from the state (JSON), to compare with stored inputs."""
    return json.loads(json.dumps(values, default=str))


def unwrap_secrets(value: Any) -> Any:
    """Replace Pulumi's wire-format secret wrappers in mock inputs with the plain values they hold."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIGNATURE[0]) == _SECRET_SIGNATURE[1]:
            return unwrap_secrets(value.get("value"))
        return {key: unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(item) for item in value]
    return value


def mask_secrets(value: Any) -> Any:
    """Mock inputs as a plan shows them: secret values masked, values known only after the deploy named so."""
    from pulumi.output import Unknown

    from provisioner.secrets import MASK

    if isinstance(value, dict):
        if value.get(_SECRET_SIGNATURE[0]) == _SECRET_SIGNATURE[1]:
            return MASK
        return {key: mask_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    return UNKNOWN_INPUT if isinstance(value, Unknown) else value



class _EmulatorMocks:
    """Pulumi mocks that create each resource in its emulator and record it in the state."""

    def __init__(
        self,
        state: SimulatedStackState,
        previous: dict[str, SimulatedResource],
        store: SimulatedStateStore,
        ctx: EmulationContext,
        *,
        preview: bool,
        sink: ProgressSink,
        fail_on: str | None,
    ) -> None:
        self.state = state
        self.previous = previous
        self.store = store
        self.ctx = ctx
        self.preview = preview
        self.sink = sink
        self.fail_on = fail_on
        self.records: list[ResourceRecord] = []
        self.seen: set[str] = set()
        self.registrations: dict[str, Registration] = {}  # filled by the monitor as the program registers resources
        # Resources whose create an earlier, interrupted run had sent without recording the result.
        self.interrupted = {p.key for p in state.pending if p.op == "create"} if state is not None else set()
        self._in_flight = 0
        self._aborted = False
        self._idle = threading.Condition()
        self.first_error: Exception | None = None

    def new_resource(self, args: Any) -> tuple[str | None, dict[str, Any]]:
        # Pulumi registers resources from worker threads: after a failure, refuse new work,
        # and let the engine wait until the calls already running have finished.
        from provisioner import interrupt

        with self._idle:
            if interrupt.requested():
                self._aborted = True
                raise RuntimeError("not started: interrupted by Ctrl-C")
            if self._aborted:
                raise RuntimeError("not started: an earlier resource failed")
            self._in_flight += 1
        try:
            return self._new_resource(args)
        except Exception as exc:
            with self._idle:
                self._aborted = True
                self.first_error = self.first_error or exc
            raise
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 120.0) -> None:
        """Block until no resource call is running (bounded)."""
        with self._idle:
            self._aborted = True
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout)

    def _new_resource(self, args: Any) -> tuple[str | None, dict[str, Any]]:
        key = f"{args.typ}::{args.name}"
        self.seen.add(key)
        inputs = unwrap_secrets(dict(args.inputs))
        shown = mask_secrets(dict(args.inputs))
        if not args.custom:
            return "", {}
        if args.typ.startswith("pulumi:providers:"):
            return f"{args.name}-provider", inputs  # providers are configuration, not resources
        old = self.previous.get(key)
        old_inputs = self.store.unseal(old.sealed_inputs) if old is not None and old.sealed_inputs else None
        unchanged = old_inputs is not None and old_inputs == _as_stored(inputs)
        op = Op.SAME if unchanged else Op.UPDATE if old else Op.CREATE
        because = replacing_property(args.typ, old_inputs, _as_stored(inputs)) if op is Op.UPDATE and old_inputs is not None else None
        if because is not None:
            op = Op.REPLACE
        registration = self.registrations.get(key)
        urn = registration.urn if registration else f"urn:pulumi:{self.ctx.stack}::{self.ctx.project}::{args.typ}::{args.name}"
        graph = {"parent": registration.parent, "dependencies": list(registration.dependencies)} if registration else {}
        note = f"{because} changed: replaced" if because else None
        broken = violations(args.typ, inputs)
        if broken:  # the guardrails of the policy pack, run here as `pulumi preview --policy-pack` would
            message = "; ".join(f"guardrail {rule}: {text}" for rule, text in broken)
            self.records.append(ResourceRecord(urn=urn, type=args.typ, name=args.name, op=op, failed=True, message=message))
            self.sink.failed(urn, args.typ, message)
            raise RuntimeError(message)
        if self.preview:
            self.records.append(ResourceRecord(urn=urn, type=args.typ, name=args.name, op=op, message=note, forced_by=because, inputs=inputs,
                                               shown_inputs=shown, **graph))
            if old is None or op is Op.REPLACE:
                return None, inputs  # a new resource: its id and computed outputs are unknown until it exists
            # An unchanged or updated resource keeps its id and computed outputs (ARNs, endpoints), so what
            # depends on them sees the values it already has and is not reported as changed.
            previous_outputs = self.store.unseal(old.sealed_state)
            return old.id, previous_outputs if op is Op.SAME else {**previous_outputs, **inputs}
        if unchanged and old is not None:  # the state already holds it, as it is
            previous_outputs = self.store.unseal(old.sealed_state)
            if handler_for(args.typ).exists(old.id, previous_outputs, self.ctx):
                self._remember_graph(key, registration)
                self.records.append(ResourceRecord(urn=urn, type=args.typ, name=args.name, op=op, inputs=inputs, shown_inputs=shown,
                                                   **graph))
                return old.id, previous_outputs
            op = Op.CREATE  # deleted behind our back: made again
        self.sink.started(urn, args.typ, op)
        try:
            if self.fail_on and self.fail_on in (args.name, args.typ):
                raise RuntimeError(f"injected failure ({FAIL_ENV}={self.fail_on})")
            if args.typ == PVC_TYPE:
                self._wait_for_storage_class(inputs)
            handler = handler_for(args.typ)
            if op is Op.REPLACE and registration is not None and registration.protect:
                raise RuntimeError(
                    f"unable to replace {urn} ({because} changed), as it is marked for protection: remove the protect "
                    "flag (for data, --set protect_data=false) and deploy again"
                )
            if op is Op.REPLACE and old is not None and registration is not None and registration.delete_before_replace:
                self._record_pending(PendingOperation(key=key, type=args.typ, name=args.name, op="create", sealed_inputs=self.store.seal(inputs)))
                handler.delete(old.id, self.store.unseal(old.sealed_state), self.ctx)  # deleteBeforeReplace: the old one goes first
                resource_id, outputs = handler.create(args.name, args.typ, inputs, self.ctx)
            elif op is Op.REPLACE and old is not None:
                # Create the new one now; the old one is deleted after the program, dependents first (as Pulumi's
                # delete-replaced steps). Until then the state keeps it under its own key, so a kill can't lose it.
                self._keep_replaced(old)
                with self._idle:
                    known = frozenset(r.id for r in self.state.resources)
                replacing = dataclasses.replace(self.ctx, generation=old.id, known_ids=known)
                if key in self.interrupted:  # a killed run may have made the replacement already
                    self._replace_orphan(handler, args.name, args.typ, inputs, replacing)
                self._record_pending(PendingOperation(key=key, type=args.typ, name=args.name, op="create", sealed_inputs=self.store.seal(inputs)))
                resource_id, outputs = handler.create(args.name, args.typ, inputs, replacing)
                _kill_here_if(KILL_AFTER_CREATE_ENV, args.name, args.typ)
            elif old and handler.exists(old.id, self.store.unseal(old.sealed_state), self.ctx):
                resource_id = old.id
                outputs = handler.update(old.id, args.name, inputs, self.store.unseal(old.sealed_state), self.ctx)
            else:
                if key in self.interrupted:
                    self._replace_orphan(handler, args.name, args.typ, inputs)
                self._record_pending(PendingOperation(key=key, type=args.typ, name=args.name, op="create", sealed_inputs=self.store.seal(inputs)))
                resource_id, outputs = handler.create(args.name, args.typ, inputs, self.ctx)
                _kill_here_if(KILL_AFTER_CREATE_ENV, args.name, args.typ)
            sealed = self.store.seal(outputs)
        except Exception as exc:
            message = " ".join(str(exc).split())
            self.records.append(ResourceRecord(urn=urn, type=args.typ, name=args.name, op=op, failed=True, message=message))
            self.sink.failed(urn, args.typ, message)
            raise
        depends_on = sorted({key_of(urn) for urn in registration.dependencies}) if registration else []
        entry = SimulatedResource(
            key=key,
            type=args.typ,
            name=args.name,
            id=resource_id,
            depends_on=depends_on,
            identities=sorted(identity_values(resource_id, outputs)),
            sealed_state=sealed,
            sealed_inputs=self.store.seal(inputs),
        )
        with self._idle:
            self.state.resources = [r for r in self.state.resources if r.key != key] + [entry]
            self.state.pending = [p for p in self.state.pending if p.key != key]
            self.store.save(self.state)  # after every resource, so a failure midway leaves a recoverable state
        self.records.append(ResourceRecord(urn=urn, type=args.typ, name=args.name, op=op, message=note, forced_by=because, inputs=inputs,
                                           shown_inputs=shown, **graph))
        self.sink.finished(urn, args.typ, op)
        return resource_id, outputs

    def _remember_graph(self, key: str, registration: Registration | None) -> None:
        """Keep an unchanged resource's dependencies as the program declares them now (states before 0.4 guessed them)."""
        if registration is None:
            return
        depends_on = sorted({key_of(urn) for urn in registration.dependencies})
        with self._idle:
            self.state.resources = [r.model_copy(update={"depends_on": depends_on}) if r.key == key else r for r in self.state.resources]

    def _keep_replaced(self, old: SimulatedResource) -> None:
        with self._idle:
            kept = old.model_copy(update={"key": f"{old.key}{REPLACED_SUFFIX}"})
            self.state.resources = [r for r in self.state.resources if r.key != kept.key] + [kept]
            self.store.save(self.state)

    def _wait_for_storage_class(self, inputs: dict[str, Any]) -> None:
        """On EKS a claim naming no StorageClass binds only through a default one, which EKS 1.30+ does not ship.

        Pulumi waits for a claim to bind; so does this, bounded, then fails naming the claim.
        """
        if (inputs.get("spec") or {}).get("storageClassName"):
            return
        with self._idle:
            resources = list(self.state.resources)
        if not any(r.type == "aws:eks/cluster:Cluster" for r in resources):
            return  # not an EKS cluster: its storage classes are not ours to know
        for resource in resources:
            if resource.type == STORAGE_CLASS_TYPE:
                annotations = (self.store.unseal(resource.sealed_state).get("metadata") or {}).get("annotations") or {}
                if annotations.get(DEFAULT_CLASS_ANNOTATION) == "true":
                    return
        timeout = float(os.environ.get(BIND_TIMEOUT_ENV, "5"))
        threading.Event().wait(timeout)
        metadata = inputs.get("metadata") or {}
        raise RuntimeError(
            f"PersistentVolumeClaim {metadata.get('namespace', 'default')}/{metadata.get('name', '?')} stayed Pending for "
            f"{timeout:.0f}s: it names no StorageClass and the EKS cluster has no default one (EKS 1.30+ ships none; "
            "install the EBS CSI driver and a default StorageClass)"
        )

    def _record_pending(self, operation: PendingOperation) -> None:
        """Write the operation to the state before the cloud call is sent (as Pulumi does)."""
        with self._idle:
            self.state.pending = [p for p in self.state.pending if p.key != operation.key] + [operation]
            self.store.save(self.state)

    def _replace_orphan(
        self, handler: Any, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext | None = None,
    ) -> None:
        """An earlier run was killed during this resource's create: delete what it made, proven ours by tags."""
        ctx = ctx or self.ctx
        orphan = handler.find_orphan(name, resource_type, inputs, ctx)
        if orphan is not None:
            self.sink.note(f"Replacing {resource_type} {name} ({orphan}), half-made by an interrupted run.")
            handler.delete(orphan, inputs, ctx)

    def call(self, args: Any) -> dict[str, Any]:
        """Answer an invoke (data source) from its emulator; unknown tokens get an empty result."""
        from provisioner.engine.emulators import invoke_for

        invoke = invoke_for(args.token)
        return invoke(unwrap_secrets(dict(args.args or {})), self.ctx) if invoke else {}


@dataclass(frozen=True)
class Registration:
    """What the SDK sent when the program registered a resource: its URN and its place in the graph."""

    urn: str
    parent: str | None
    dependencies: tuple[str, ...]  # URNs: explicit depends_on and every property dependency
    delete_before_replace: bool
    protect: bool = False


def _engine_urn(urn: str) -> str:
    """The URN as the Pulumi engine writes it: the mock monitor puts the root stack's type before a top-level
    resource's own (``pulumi:pulumi:Stack$TYPE``), which the engine leaves out."""
    return urn.replace("::pulumi:pulumi:Stack$", "::")


def key_of(urn: str) -> str:
    """The state key (``TYPE::NAME``) of a resource URN (``urn:pulumi:STACK::PROJECT::PARENT$TYPE::NAME``)."""
    _, _, qualified_type, name = urn.split("::", 3)
    return f"{qualified_type.split('$')[-1]}::{name}"


def run_program_with_mocks(
    program: Callable[[], None], mocks: Any, project: str, stack: str, preview: bool
) -> dict[str, OutputValue]:
    """Run ``program`` under ``mocks`` (an object with ``new_resource``, ``call`` and, if it wants the graph,
    a ``registrations`` dict the monitor fills) in a fresh event loop and return its resolved exports."""
    import pulumi
    from pulumi.runtime import settings
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.stack import wait_for_rpcs

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            return mocks.new_resource(args)

        def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
            return mocks.call(args)

    registrations: dict[str, Registration] = getattr(mocks, "registrations", {})

    class RecordingMonitor(MockMonitor):  # type: ignore[misc]
        # The one use of Pulumi internals here: MockResourceArgs carries no parent, dependencies or
        # delete-before-replace, so the registration request is read before the mock sees it.
        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method's name
            dependencies = {_engine_urn(urn) for urn in request.dependencies}
            for urns in request.propertyDependencies.values():
                dependencies.update(_engine_urn(urn) for urn in urns.urns)
            if request.provider:  # "URN::ID": a resource waits for its provider, and so for what configures it
                provider = registrations.get(key_of(_engine_urn(request.provider.rsplit("::", 1)[0])))
                if provider is not None:
                    dependencies.update(provider.dependencies)
            registration = Registration(
                urn=_engine_urn(self.make_urn(request.parent, request.type, request.name)),
                parent=_engine_urn(request.parent) if request.parent else None,
                dependencies=tuple(sorted(dependencies)), delete_before_replace=bool(request.deleteBeforeReplace),
                protect=bool(request.protect),
            )
            registrations[f"{request.type}::{request.name}"] = registration
            return super().RegisterResource(request)

    loop = asyncio.new_event_loop()
    # Failures are reported by the engine; asyncio would also print each abandoned future.
    loop.set_exception_handler(lambda _loop, _context: None)
    asyncio.set_event_loop(loop)
    try:
        # set_mocks keeps an existing root stack, and with it the exports of an earlier program in this process.
        settings.set_root_resource(None)  # type: ignore[arg-type]
        mock = Mocks()
        pulumi.runtime.set_mocks(mock, project=project, stack=stack, preview=preview, monitor=RecordingMonitor(mock))
        program()
        loop.run_until_complete(wait_for_rpcs())
        root = settings.get_root_resource()
        exports = dict(getattr(root, "outputs", {}) or {})
        return loop.run_until_complete(_resolve(exports))
    finally:
        _drain(loop)


def _drain(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what a failed program left pending, so the next run in this process starts clean.

    Pulumi has no public API to reset its runtime between programs run in one process (the CLI
    starts one process per program), so this clears the SDK's RPC manager and pending outputs.
    """
    from pulumi.runtime import settings

    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    settings.SETTINGS.rpc_manager.clear()
    with settings.SETTINGS.lock:
        settings.SETTINGS.outputs.clear()
    asyncio.set_event_loop(None)
    loop.close()


async def _resolve(exports: dict[str, Any]) -> dict[str, OutputValue]:
    import pulumi

    resolved: dict[str, OutputValue] = {}
    for key, value in exports.items():
        if isinstance(value, pulumi.Output):
            known = await value.is_known()
            resolved[key] = OutputValue(
                value=await value.future() if known else None, secret=await value.is_secret()
            )
        else:
            resolved[key] = OutputValue(value=value)
    return resolved


REPLACED_SUFFIX = "::replaced"  # the state's key for a replaced resource's old instance, until it is deleted


def _deletion_order(resources: list[SimulatedResource]) -> list[SimulatedResource]:
    """Dependents before what they depend on; creation order reversed where nothing else decides."""
    remaining = list(reversed(resources))
    ordered: list[SimulatedResource] = []
    while remaining:
        needed = {dependency for r in remaining for dependency in r.depends_on}
        ready = [r for r in remaining if r.key not in needed] or remaining[:1]
        ordered.extend(ready)
        remaining = [r for r in remaining if r not in ready]
    return ordered


class SimulatedEngine:
    """Runs recipes in-process under Pulumi mocks, with resources in emulators."""

    name = "simulated"
    simulated = True

    def __init__(self, store: SimulatedStateStore | None = None) -> None:
        if store is None:
            from provisioner.paths import home
            from provisioner.secrets import LocalFernetBackend

            store = SimulatedStateStore(home() / "simulated", LocalFernetBackend(home() / "secrets.key"))
        self.store = store
        self.emulator_location = ""

    def check_available(self) -> None:
        return None

    @contextmanager
    def _emulation(self, recipe: Recipe, region: str) -> Iterator[None]:
        if cloud_of(recipe) == "aws":
            with aws_emulation(region) as where:
                self.emulator_location = where
                yield
        else:
            self.emulator_location = "synthesized outputs (no cluster or cloud is contacted)"
            yield

    def _context(self, request: DeployRequest, deployment_id: str | None = None) -> EmulationContext:
        return EmulationContext(
            stack=request.pulumi_stack, project=project_name(request.recipe), region=request.region or "us-east-1",
            deployment_id=deployment_id,
        )

    def up(
        self, request: DeployRequest, recipe: Recipe, args: RecipeArgs, *, preview: bool, sink: ProgressSink,
        update_plan: Path | None = None,
    ) -> EngineResult:
        # No update plan of its own: a saved plan holds here through the fresh preview lifecycle.deploy compares.
        from provisioner.ownership import new_deployment_id

        project = project_name(request.recipe)
        old = self.store.load(project, request.pulumi_stack)
        previous = {r.key: r for r in old.resources} if old else {}
        # A stack deployed before deployment ids existed gets one now; its resources are re-tagged in place.
        deployment_id = (old.deployment_id if old else None) or request.planned_deployment_id or new_deployment_id()
        ctx = self._context(request, deployment_id)
        state = old or SimulatedStackState(project=ctx.project, stack=ctx.stack, region=ctx.region)
        mocks = _EmulatorMocks(state, previous, self.store, ctx, preview=preview, sink=sink, fail_on=os.environ.get(FAIL_ENV))
        pinned = {key: value.value for key, value in self.outputs(request, recipe).items() if key in recipe.pinned_outputs}
        recipe_context = request.context(simulated=True, deployment_id=deployment_id, previous_outputs=pinned)
        with self._emulation(recipe, ctx.region):
            if not preview:
                state.status = "updating"
                state.env = request.env
                state.deployment_id = deployment_id
                self.store.save(state)  # the id is on disk before the first resource is created
            try:
                outputs = run_program_with_mocks(
                    lambda: run_program(recipe, args, recipe_context, ctx.project, ctx.stack), mocks, ctx.project, ctx.stack, preview
                )
            except Exception as exc:
                mocks.wait_idle()
                failures = [r for r in mocks.records if r.failed]
                if not preview:
                    state.status = "failed"
                    self.store.save(state)
                from provisioner import interrupt

                interrupt.check()
                if failures:
                    raise ResourcesFailedError(failures) from exc
                if mocks.first_error is not None:
                    raise mocks.first_error from None
                raise
            if not preview:
                self._delete_missing(state, mocks.seen, ctx, sink, mocks.records)
                state.status = "deployed"
                state.sealed_outputs = self.store.seal({k: v.model_dump() for k, v in outputs.items()})
                self.store.save(state)
        if preview:
            for key, resource in previous.items():
                if key not in mocks.seen:
                    mocks.records.append(ResourceRecord(urn=key, type=resource.type, name=resource.name, op=Op.DELETE))
        return EngineResult(
            engine=self.name, simulated=True, preview=preview, resources=mocks.records, outputs=outputs, deployment_id=deployment_id
        )

    def _delete_missing(
        self, state: SimulatedStackState, seen: set[str], ctx: EmulationContext, sink: ProgressSink, records: list[ResourceRecord]
    ) -> None:
        doomed = [r for r in state.resources if r.key not in seen]
        keys = {r.key for r in doomed}
        # A replaced resource's old instance goes after the old instances that depended on it.
        ordered = _deletion_order([
            r.model_copy(update={"depends_on": [d + REPLACED_SUFFIX if d + REPLACED_SUFFIX in keys else d for d in r.depends_on]})
            if r.key.endswith(REPLACED_SUFFIX) else r
            for r in doomed
        ])
        for resource in ordered:
            replaced = resource.key.endswith(REPLACED_SUFFIX)
            self._delete_one(resource, ctx, sink, [] if replaced else records)  # a replacement is reported once, as replace
            state.resources = [r for r in state.resources if r.key != resource.key]
            self.store.save(state)

    def _delete_one(self, resource: SimulatedResource, ctx: EmulationContext, sink: ProgressSink, records: list[ResourceRecord]) -> None:
        from provisioner import interrupt

        interrupt.check()
        urn = self._urn(ctx, resource)
        handler, recorded = handler_for(resource.type), self.store.unseal(resource.sealed_state)
        if not handler.exists(resource.id, recorded, ctx):
            # Gone already (deleted by hand, or an in-process emulator that forgot it): nothing was deleted now.
            records.append(ResourceRecord(urn=urn, type=resource.type, name=resource.name, op=Op.DELETE, already_gone=True,
                                          message="already gone: removed from the state only"))
            return
        sink.started(urn, resource.type, Op.DELETE)
        try:
            handler.delete(resource.id, recorded, ctx)
            _kill_here_if(KILL_AFTER_DELETE_ENV, resource.name, resource.type)
        except Exception as exc:
            message = " ".join(str(exc).split())
            records.append(ResourceRecord(urn=urn, type=resource.type, name=resource.name, op=Op.DELETE, failed=True, message=message))
            sink.failed(urn, resource.type, message)
            raise ResourcesFailedError([records[-1]]) from exc
        records.append(ResourceRecord(urn=urn, type=resource.type, name=resource.name, op=Op.DELETE))
        sink.finished(urn, resource.type, Op.DELETE)

    def destroy(self, request: DeployRequest, recipe: Recipe, *, sink: ProgressSink, retain_data: bool = False) -> EngineResult:
        """Delete the stack's resources, dependents first; with ``retain_data``, keep the data and what it needs."""
        state = self.store.load(project_name(request.recipe), request.pulumi_stack)
        records: list[ResourceRecord] = []
        kept: list[ResourceRecord] = []
        if state is None:
            return EngineResult(engine=self.name, simulated=True, preview=False)
        ctx = self._context(request, state.deployment_id)
        keep: set[str] = set()
        if retain_data and recipe.retention is not None:
            nodes = [Node(r.key, r.type, frozenset(r.depends_on)) for r in state.resources]
            keep = kept_keys(nodes, recipe.retention)
        with self._emulation(recipe, state.region or ctx.region):
            self._delete_interrupted(state, ctx, sink)
            for resource in _deletion_order([r for r in state.resources if r.key not in keep]):
                self._delete_one(resource, ctx, sink, records)
                state.resources.remove(resource)
                self.store.save(state)
        for resource in state.resources:
            kept.append(ResourceRecord(urn=self._urn(ctx, resource), type=resource.type, name=resource.name, op=Op.SAME, message=resource.id))
        state.status = "data-kept" if state.resources else "destroyed"
        state.sealed_outputs = "" if not state.resources else state.sealed_outputs
        self.store.save(state)
        return EngineResult(engine=self.name, simulated=True, preview=False, resources=records, kept=kept)

    def _delete_interrupted(self, state: SimulatedStackState, ctx: EmulationContext, sink: ProgressSink) -> None:
        """Delete what creates that an interrupted run sent, but never recorded, made (proven ours by tags)."""
        for operation in list(state.pending):
            if operation.op == "create":
                inputs = self.store.unseal(operation.sealed_inputs)
                handler = handler_for(operation.type)
                orphan = handler.find_orphan(operation.name, operation.type, inputs, ctx)
                if orphan is not None:
                    sink.note(f"Deleting {operation.type} {operation.name} ({orphan}), half-made by an interrupted run.")
                    handler.delete(orphan, inputs, ctx)
            state.pending.remove(operation)
            self.store.save(state)

    @staticmethod
    def _urn(ctx: EmulationContext, resource: SimulatedResource) -> str:
        return f"urn:pulumi:{ctx.stack}::{ctx.project}::{resource.type}::{resource.name}"

    def remove_stack(self, request: DeployRequest) -> None:
        self.store.remove(project_name(request.recipe), request.pulumi_stack)

    def drift(self, request: DeployRequest, recipe: Recipe) -> list[DriftItem]:
        """Read each recorded resource back from its emulator: gone, or a property that differs."""
        state = self.store.load(project_name(request.recipe), request.pulumi_stack)
        if state is None:
            raise InputError(f"no simulated state for {request.stack_name!r}: nothing is deployed to compare")
        if cloud_of(recipe) == "aws" and not os.environ.get("AWS_ENDPOINT_URL"):
            raise InputError(
                "drift needs an emulator that outlives a command: in-process moto starts empty every run "
                "(run a moto server and set AWS_ENDPOINT_URL, as for the deploy)"
            )
        ctx = self._context(request, state.deployment_id)
        found: list[DriftItem] = []
        with self._emulation(recipe, ctx.region):
            for resource in state.resources:
                if not resource.custom or resource.key.endswith(REPLACED_SUFFIX):
                    continue
                handler, recorded = handler_for(resource.type), self.store.unseal(resource.sealed_state)
                where = {"urn": self._urn(ctx, resource), "type": resource.type, "name": resource.name}
                if not handler.exists(resource.id, recorded, ctx):
                    found.append(DriftItem(**where, kind="deleted"))
                    continue
                for prop, (was, now) in sorted(handler.drifted(resource.id, recorded, ctx).items()):
                    found.append(DriftItem(**where, kind="changed", property=prop, recorded=was, actual=now))
        return found

    def has_stack(self, request: DeployRequest) -> bool:
        return self.store.load(project_name(request.recipe), request.pulumi_stack) is not None

    def ownership(self, request: DeployRequest) -> Ownership | None:
        state = self.store.load(project_name(request.recipe), request.pulumi_stack)
        if state is None:
            return None
        ctx = self._context(request, state.deployment_id)
        return Ownership(
            deployment_id=state.deployment_id,
            env=state.env,
            resources=[OwnedResource(type=r.type, id=r.id, urn=self._urn(ctx, r)) for r in state.resources],
            pending=len(state.pending),
        )

    def outputs(self, request: DeployRequest, recipe: Recipe) -> dict[str, OutputValue]:
        state = self.store.load(project_name(request.recipe), request.pulumi_stack)
        if state is None:
            return {}
        return {k: OutputValue.model_validate(v) for k, v in self.store.unseal(state.sealed_outputs).items()}
