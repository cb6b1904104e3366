"""A fake Pulumi CLI for driving ``pulumi.automation`` without the binary.

It records every argv the Automation API sends, keeps stacks, config and outputs in memory,
streams engine events back over the Events gRPC endpoint (CLI versions above 3.205 use one),
and fails like the real CLI: through ``create_command_error``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from pulumi.automation import CommandResult, PulumiCommand
from pulumi.automation.errors import create_command_error
from pulumi.runtime.proto import events_pb2, events_pb2_grpc
from semver import VersionInfo

LOCKED_STDERR = (
    "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end "
    "or delete the lock file with `pulumi cancel`.\n"
    "  file:///state/.pulumi/locks/organization/provisioner-demo/dev/3f2a.json: created by alice@ci (pid 4242) "
    "at 2026-11-26T08:00:00Z"
)
NO_CREDENTIALS_STDERR = (
    "error: unable to validate AWS credentials.\nDetails: No valid credential sources found. "
    "Please see https://www.pulumi.com/registry/packages/aws/installation-configuration/ (NoCredentialProviders)"
)


def _flag(args: list[str], name: str) -> str | None:
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg[len(name) + 1 :]
    return None


def resource_events(op: str, resources: list[tuple[str, str]], stack: str, project: str, *, planning: bool = False,
                    fail: Mapping[str, str] | None = None, durations: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """Engine events for ``(type, name)`` resources; names in ``fail`` get an error and a failed op.

    Names in ``durations`` finish that many seconds after they start (the events' timestamps say so).
    """
    events: list[dict[str, Any]] = []
    clock = int(time.time())
    changes: dict[str, int] = {}
    for resource_type, name in resources:
        urn = f"urn:pulumi:{stack}::{project}::{resource_type}::{name}"
        meta = {"op": op, "urn": urn, "type": resource_type, "provider": ""}
        events.append({"timestamp": clock, "resourcePreEvent": {"metadata": meta, "planning": planning}})
        if fail and name in fail:
            events.append({"diagnosticEvent": {"urn": urn, "message": fail[name] + "\n", "color": "never", "severity": "error"}})
            events.append({"resOpFailedEvent": {"metadata": meta, "status": 1, "steps": 1}})
            continue
        events.append({"timestamp": clock + (durations or {}).get(name, 0),
                       "resOutputsEvent": {"metadata": meta, "planning": planning}})
        changes[op] = changes.get(op, 0) + 1
    events.append({"summaryEvent": {"maybeCorrupt": False, "durationSeconds": 1, "resourceChanges": changes, "PolicyPacks": {}}})
    events.append({"cancelEvent": {}})
    return events


@dataclass
class Call:
    argv: list[str]
    env: dict[str, str]
    cwd: str


class FakePulumiCommand(PulumiCommand):
    """Stand-in for the ``pulumi`` binary (never runs ``pulumi version``)."""

    def __init__(self, *, outputs: Mapping[str, Any] | None = None, secret_outputs: set[str] | None = None,
                 resources: list[tuple[str, str]] | None = None, existing_stacks: set[str] | None = None) -> None:
        self.command = "pulumi"
        self.version = VersionInfo.parse("3.272.0")
        self.calls: list[Call] = []
        self.stacks: set[str] = set(existing_stacks or ())
        self.config: dict[str, dict[str, tuple[str, bool]]] = {}
        self.stack_outputs: dict[str, dict[str, Any]] = {}
        self.outputs_after_up = dict(outputs or {})
        self.secret_outputs = set(secret_outputs or ())
        self.resources = list(resources or [])
        self.durations: dict[str, int] = {}  # seconds a resource's `up` or `destroy` takes, by name
        self.followed_plans: list[dict[str, Any]] = []  # the update plans `up --plan` was given
        self.off_plan: str | None = None  # a resource name whose update would now differ from any saved plan
        self.failures: dict[str, tuple[str, list[dict[str, Any]] | None]] = {}
        # The state's resources as `stack export` shows them, and pending operations left by a crash.
        self.deployment: dict[str, Any] = {"resources": [], "pending_operations": []}
        self.imported: list[dict[str, Any]] = []

    def fail_next(self, subcommand: str, stderr: str, events: list[dict[str, Any]] | None = None) -> None:
        """Make the next ``subcommand`` (``up``, ``stack select``, ...) fail with ``stderr`` after ``events``."""
        self.failures[subcommand] = (stderr, events)

    def argvs(self) -> list[list[str]]:
        """Every argv, with the per-call random ports and event-log addresses normalised."""
        normalised = []
        for call in self.calls:
            argv = []
            for arg in call.argv:
                if arg.startswith("--client="):
                    arg = "--client=<addr>"
                elif arg.startswith("tcp://"):
                    arg = "<event-log>"
                argv.append(arg)
            normalised.append(argv)
        return normalised

    def run(self, args: list[str], cwd: str, additional_env: Mapping[str, str],
            on_output: Callable[[str], Any] | None = None, on_error: Callable[[str], Any] | None = None) -> CommandResult:
        argv = list(args)
        if "--non-interactive" not in argv:
            argv.insert(0, "--non-interactive")
        self.calls.append(Call(argv=argv, env=dict(additional_env), cwd=cwd))
        words = [a for a in argv if a != "--non-interactive"]
        key = " ".join(words[:2]) if words[0] in ("stack", "config", "plugin") else words[0]
        result = self._dispatch(key, words)
        if result.code != 0:
            raise create_command_error(result)
        return result

    def _dispatch(self, key: str, args: list[str]) -> CommandResult:
        stack = _flag(args, "--stack")
        if key in self.failures:
            stderr, events = self.failures.pop(key)
            if events:
                self._emit(_flag(args, "--event-log"), events)
            return CommandResult("", stderr, 255)
        if key == "stack select":
            if stack not in self.stacks:
                return CommandResult("", f"error: no stack named '{stack}' found", 255)
            return CommandResult("", "", 0)
        if key == "stack init":
            self.stacks.add(args[2])
            return CommandResult(f"Created stack '{args[2]}'", "", 0)
        if key == "stack rm":
            name = [a for a in args[2:] if not a.startswith("-")][-1]
            self.stacks.discard(name)
            return CommandResult("", "", 0)
        if key == "config set-all":
            values = self.config.setdefault(stack or "", {})
            for index, arg in enumerate(args):
                if arg in ("--secret", "--plaintext"):
                    name, _, value = args[index + 1].partition("=")
                    values[name] = (value, arg == "--secret")
            return CommandResult("", "", 0)
        if key == "config get":
            name = [a for a in args[2:] if not a.startswith("-") and a != stack][0]
            if name not in self.config.get(stack or "", {}):
                return CommandResult("", f"error: configuration key '{name}' not found for stack '{stack}'", 255)
            value, secret = self.config[stack or ""][name]
            return CommandResult(json.dumps({"value": value, "secret": secret}), "", 0)
        if key == "stack output":
            outputs = self.stack_outputs.get(stack or "", {})
            if "--show-secrets" not in args:
                outputs = {k: "[secret]" if k in self.secret_outputs else v for k, v in outputs.items()}
            return CommandResult(json.dumps(outputs), "", 0)
        if key == "stack export":
            return CommandResult(json.dumps({"version": 3, "deployment": self.deployment}), "", 0)
        if key == "stack import":
            file_index = args.index("--file") + 1
            with open(args[file_index]) as handle:
                self.imported.append(json.load(handle))
            self.deployment = self.imported[-1]["deployment"]
            return CommandResult("", "", 0)
        if key == "stack history":
            now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
            entry = {"version": 1, "kind": "update", "startTime": now, "endTime": now, "message": "",
                     "environment": {}, "config": {}, "result": "succeeded", "resourceChanges": {}}
            return CommandResult(json.dumps([entry]), "", 0)
        if key in ("up", "preview", "destroy"):
            op = {"up": "create", "preview": "create", "destroy": "delete"}[key]
            project = "provisioner-demo"
            saved_plan, followed = _flag(args, "--save-plan"), _flag(args, "--plan")
            if saved_plan:  # like `preview --save-plan`: each resource's goal and steps
                urns = {f"urn:pulumi:{stack}::{project}::{t}::{n}": {"goal": {"type": t, "name": n}, "steps": [op]}
                        for t, n in self.resources}
                with open(saved_plan, "w") as handle:
                    json.dump({"manifest": {"version": str(self.version)}, "resourcePlans": urns, "config": {}}, handle)
            if followed:
                with open(followed) as handle:
                    self.followed_plans.append(json.load(handle))
                if self.off_plan:
                    urn = next(f"urn:pulumi:{stack}::{project}::{t}::{n}" for t, n in self.resources if n == self.off_plan)
                    return CommandResult("", f"error: resource {urn} violates plan: properties changed: ~~versioning", 255)
            self._emit(_flag(args, "--event-log"), resource_events(op, self.resources, stack or "", project, planning=key == "preview",
                                                                    durations=None if key == "preview" else self.durations))
            if key == "up":
                self.stack_outputs[stack or ""] = dict(self.outputs_after_up)
            elif key == "destroy":
                self.stack_outputs[stack or ""] = {}
            return CommandResult("", "", 0)
        return CommandResult("", "", 0)

    @staticmethod
    def _emit(event_log: str | None, events: list[dict[str, Any]]) -> None:
        if not event_log:
            return
        lines = [json.dumps({"sequence": i, "timestamp": int(time.time()), **event}) for i, event in enumerate(events)]
        with grpc.insecure_channel(event_log.removeprefix("tcp://")) as channel:
            events_pb2_grpc.EventsStub(channel).StreamEvents(iter(events_pb2.EventRequest(event=line) for line in lines), timeout=10)
