"""`provisioner user ...` and `provisioner audit [verify]`: roles and the record of who did what."""

import sys
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from provisioner.cli._app import new_app
from provisioner.cli._context import open_registry
from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, info, print_json, render

if TYPE_CHECKING:
    from provisioner.registry.tokens import IssuedToken

users_app = new_app(help="Users and roles (admins manage them).", no_args_is_help=True)


@users_app.command("list")
@report_errors
def list_users(*, output: OutputOption = OutputFormat.table) -> None:
    """List users and their roles; the current user is marked."""
    registry = open_registry()
    users = registry.users()
    rows = [("*" if u.name == registry.user else "", u.name, u.role, "disabled" if u.disabled else "") for u in users]
    render(users, output, "Users", ["you", "name", "role", "state"], rows)


@users_app.command("set")
@report_errors
def set_user(
    name: Annotated[str, typer.Argument(help="User name (as PROVISIONER_USER or the OS user).")],
    role: Annotated[str, typer.Argument(help="admin or member.")],
) -> None:
    """Add a user or change a role (admins only)."""
    from provisioner.registry.access import Role
    from provisioner.registry.validation import call_or_raise

    user = open_registry().set_user(name, call_or_raise(lambda: Role(role), "role"))
    info(f"{user.name!r} is now {user.role.value}.")


@users_app.command("remove")
@report_errors
def remove_user(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Remove a user (admins only)."""
    open_registry().remove_user(name)
    info(f"Removed user {name!r}.")


LifetimeOption = Annotated[
    Optional[int], typer.Option("--expires-in-days", min=1, max=366, help="Token lifetime in days (default 90).")
]


def _print_token(issued: "IssuedToken", output: OutputFormat, what: str) -> None:
    """The token goes to stdout once (the registry keeps only its hash); the notes go to stderr."""
    if output is OutputFormat.json:
        print_json({"user": issued.user, "role": issued.role.value, "token": issued.token,
                    "expires_at": issued.info.expires_at.isoformat(timespec="seconds"), "token_id": issued.info.id})
        return
    info(f"{what} Its token, shown only now (valid until {issued.info.expires_at:%Y-%m-%d %H:%M} UTC):")
    print(issued.token)
    info("Hand it over privately; they log in with: provisioner login URL (it asks for the token).")


@users_app.command("add")
@report_errors
def add_user(
    name: Annotated[str, typer.Argument(help="New user name.")],
    *,
    role: Annotated[str, typer.Option("--role", help="admin or member.")] = "member",
    expires_in_days: LifetimeOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Add a user and print their API token once (admins only)."""
    from datetime import timedelta

    from provisioner.registry.access import Role
    from provisioner.registry.validation import call_or_raise

    lifetime = timedelta(days=expires_in_days) if expires_in_days else None
    issued = open_registry().add_user(name, call_or_raise(lambda: Role(role), "role"), lifetime=lifetime)
    _print_token(issued, output, f"Added {issued.role.value} {name!r}.")


@users_app.command("token")
@report_errors
def issue_token(
    name: Annotated[str, typer.Argument(help="User name.")],
    *,
    rotate: Annotated[bool, typer.Option("--rotate", help="Revoke the user's other tokens (rotation).")] = False,
    expires_in_days: LifetimeOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Issue a new API token for a user (admins only); --rotate revokes their older ones."""
    from datetime import timedelta

    lifetime = timedelta(days=expires_in_days) if expires_in_days else None
    issued = open_registry().issue_token(name, lifetime=lifetime, revoke_others=rotate)
    _print_token(issued, output, f"New token for {name!r}{' (older tokens revoked)' if rotate else ''}.")


@users_app.command("tokens")
@report_errors
def list_tokens(
    name: Annotated[Optional[str], typer.Argument(help="Only this user's tokens.")] = None,
    *,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List API tokens (never their values): id, user, prefix, expiry, revocation (admins only)."""
    tokens = open_registry().list_tokens(name)
    rows = [(t.id, t.user, t.prefix + "…", t.label, f"{t.expires_at:%Y-%m-%d %H:%M}",
             f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "") for t in tokens]
    render(tokens, output, "API tokens", ["id", "user", "prefix", "label", "expires (UTC)", "revoked (UTC)"], rows)


@users_app.command("revoke-token")
@report_errors
def revoke_token(
    name: Annotated[Optional[str], typer.Argument(help="Revoke all of this user's tokens.")] = None,
    *,
    token_id: Annotated[Optional[int], typer.Option("--id", help="Revoke only the token with this id.")] = None,
) -> None:
    """Revoke API tokens: they stop working on the next request (admins only)."""
    revoked = open_registry().revoke_tokens(user=name, token_id=token_id)
    info(f"Revoked {len(revoked)} token(s).")


@users_app.command("disable")
@report_errors
def disable_user(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Switch a user off: their tokens stop working and the gate refuses them, at once (admins only)."""
    open_registry().set_user_disabled(name, True)
    info(f"Disabled {name!r}.")


@users_app.command("enable")
@report_errors
def enable_user(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Switch a disabled user back on (admins only)."""
    open_registry().set_user_disabled(name, False)
    info(f"Enabled {name!r}.")


audit_app = new_app()


@audit_app.callback(invoke_without_command=True)
@report_errors
def audit(
    ctx: typer.Context,
    *,
    since: Annotated[Optional[str], typer.Option("--since", help="ISO time (2026-11-26T08:00) or a duration (30m, 12h, 7d).")] = None,
    user: Annotated[Optional[str], typer.Option("--user", help="Only this user.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Show the audit log: every change, who made it, when, and how it ended (denials included)."""
    if ctx.invoked_subcommand is not None:
        return
    entries = open_registry().audit_log(since=_since(since) if since else None, user=user)
    rows = [(e.at.isoformat(timespec="seconds"), e.user, e.action, e.target, e.result, e.detail) for e in entries]
    render(entries, output, "Audit log", ["when (UTC)", "user", "action", "target", "result", "detail"], rows)


@audit_app.command("verify")
@report_errors
def verify_audit(*, output: OutputOption = OutputFormat.table) -> None:
    """Check the audit log's hash chain: exit 0 when intact, 1 naming the first broken row."""
    report = open_registry().verify_audit()
    if output is OutputFormat.json:
        print_json(report)
    elif report.ok:
        print(report.message)
    if not report.ok:
        print(f"error: {report.message}", file=sys.stderr)
        raise typer.Exit(1)


def _since(text: str):  # type: ignore[no-untyped-def]
    import re
    from datetime import datetime, timedelta, timezone

    from provisioner.errors import InputError

    match = re.fullmatch(r"(\d+)([mhd])", text.strip())
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return now - timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--since must be an ISO time or a duration like 12h (got {text!r})") from None
    return parsed.astimezone(timezone.utc).replace(tzinfo=None) if parsed.tzinfo else parsed
