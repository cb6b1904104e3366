"""Users, roles and stack grants: who may do what (the gate in access.py reads them)."""

from __future__ import annotations

from provisioner.errors import ConflictError, InputError, NotFoundError
from provisioner.registry.access import Need, Role, UserInfo
from provisioner.registry.unit_of_work import UnitOfWork


class UserService:
    """Adds users, changes roles and restricts stacks to named users."""

    def role(self, uow: UnitOfWork) -> Role:
        """The acting user's role; users nobody added are members."""
        uow.require(Need.ANYONE, uow.user, "reading roles")
        return uow.role()

    def users(self, uow: UnitOfWork) -> list[UserInfo]:
        uow.require(Need.ANYONE, "users", "listing users")
        disabled = uow.tx.disabled_users()
        return [UserInfo(name=name, role=Role(role), disabled=name in disabled) for name, role in uow.tx.users().items()]

    def add_user(self, uow: UnitOfWork, name: str, role: Role) -> UserInfo:
        """Add a new user (admins only); an existing name is refused (use set to change a role)."""
        uow.require(Need.ADMIN, name, "adding users")
        check_user_name(name)
        if name in uow.tx.users():
            raise ConflictError(f"user {name!r} exists already: provisioner user token {name} issues a new token")
        uow.tx.save_user(name, role.value)
        return UserInfo(name=name, role=role)

    def set_disabled(self, uow: UnitOfWork, name: str, disabled: bool) -> UserInfo:
        """Switch a user's access off (their tokens stop working at once) or back on (admins only)."""
        uow.require(Need.ADMIN, name, "disabling or enabling users")
        users = uow.tx.users()
        if name not in users:
            raise NotFoundError(f"user {name!r} does not exist")
        if disabled and name == uow.user:
            raise ConflictError("you cannot disable yourself")
        if disabled and users[name] == Role.ADMIN.value and _live_admins(uow) == {name}:
            raise ConflictError(f"{name!r} is the last enabled admin and cannot be disabled")
        uow.tx.set_user_disabled(name, disabled)
        return UserInfo(name=name, role=Role(users[name]), disabled=disabled)

    def set_user(self, uow: UnitOfWork, name: str, role: Role) -> UserInfo:
        """Add a user or change a role (admins only); the last admin cannot be demoted."""
        uow.require(Need.ADMIN, name, "adding users or changing roles")
        users = uow.tx.users()
        if role is Role.MEMBER and users.get(name) == Role.ADMIN.value and list(users.values()).count(Role.ADMIN.value) == 1:
            raise ConflictError(f"{name!r} is the last admin: make someone else admin first")
        uow.tx.save_user(name, role.value)
        return UserInfo(name=name, role=role)

    def remove_user(self, uow: UnitOfWork, name: str) -> None:
        uow.require(Need.ADMIN, name, "removing users")
        users = uow.tx.users()
        if name not in users:
            raise NotFoundError(f"user {name!r} does not exist")
        if users[name] == Role.ADMIN.value and list(users.values()).count(Role.ADMIN.value) == 1:
            raise ConflictError(f"{name!r} is the last admin and cannot be removed")
        uow.tx.delete_user(name)

    def grant(self, uow: UnitOfWork, stack_name: str, user: str) -> list[str]:
        """Restrict a stack to named users, adding ``user`` (admins only)."""
        uow.require(Need.ADMIN, stack_name, "restricting stacks")
        _require_stack(uow, stack_name)
        uow.tx.grant(stack_name, user)
        return uow.tx.stack_grants(stack_name)

    def revoke(self, uow: UnitOfWork, stack_name: str, user: str) -> list[str]:
        """Remove ``user`` from a stack's allowed users (admins only); no users left means unrestricted."""
        uow.require(Need.ADMIN, stack_name, "restricting stacks")
        _require_stack(uow, stack_name)
        uow.tx.revoke(stack_name, user)
        return uow.tx.stack_grants(stack_name)

    def stack_grants(self, uow: UnitOfWork, stack_name: str) -> list[str]:
        uow.require(Need.ANYONE, stack_name, "reading stack grants")
        return uow.tx.stack_grants(stack_name)


def check_user_name(name: str) -> str:
    """A user name: 1-64 letters, digits, dots, dashes, underscores or @, starting with a letter or digit."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}", name):
        raise InputError(f"user name {name!r} is not valid: 1-64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit")
    return name


def _live_admins(uow: UnitOfWork) -> set[str]:
    disabled = uow.tx.disabled_users()
    return {name for name, role in uow.tx.users().items() if role == Role.ADMIN.value and name not in disabled}


def _require_stack(uow: UnitOfWork, stack_name: str) -> None:
    if uow.tx.get_stack(stack_name) is None:
        raise NotFoundError(f"stack {stack_name!r} does not exist")
