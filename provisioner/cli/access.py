"""`provisioner user ...` and `provisioner audit`: roles and the record of who did what."""

from typing import Annotated, Optional

import typer

from provisioner.cli._context import open_registry
from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, info, render

users_app = typer.Typer(help="Users and roles (admins manage them).", no_args_is_help=True)


@users_app.command("list")
@report_errors
def list_users(*, output: OutputOption = OutputFormat.table) -> None:
    """List users and their roles; the current user is marked."""
    registry = open_registry()
    users = registry.users()
    rows = [("*" if u.name == registry.user else "", u.name, u.role) for u in users]
    render(users, output, "Users", ["you", "name", "role"], rows)


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


@report_errors
def audit(
    *,
    since: Annotated[Optional[str], typer.Option("--since", help="ISO time (2026-11-26T08:00) or a duration (30m, 12h, 7d).")] = None,
    user: Annotated[Optional[str], typer.Option("--user", help="Only this user.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Show the audit log: every change, who made it, when, and how it ended (denials included)."""
    entries = open_registry().audit_log(since=_since(since) if since else None, user=user)
    rows = [(e.at.isoformat(timespec="seconds"), e.user, e.action, e.target, e.result, e.detail) for e in entries]
    render(entries, output, "Audit log", ["when (UTC)", "user", "action", "target", "result", "detail"], rows)


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
