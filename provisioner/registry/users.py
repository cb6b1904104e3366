"""Users, roles and stack grants: who may do what (the gate in access.py reads them)."""

from __future__ import annotations

from provisioner.errors import ConflictError, NotFoundError
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
        return [UserInfo(name=name, role=Role(role)) for name, role in uow.tx.users().items()]

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


def _require_stack(uow: UnitOfWork, stack_name: str) -> None:
    if uow.tx.get_stack(stack_name) is None:
        raise NotFoundError(f"stack {stack_name!r} does not exist")
