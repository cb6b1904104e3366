"""Who is acting, what roles allow, and the shapes of the audit log."""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from enum import Enum

from pydantic import BaseModel

USER_ENV = "PROVISIONER_USER"


class Role(str, Enum):
    """admin: manages connectors, secrets, users and access. member: uses them."""

    ADMIN = "admin"
    MEMBER = "member"


def current_user() -> str:
    """PROVISIONER_USER, else the operating-system user."""
    return os.environ.get(USER_ENV) or getpass.getuser()


class UserInfo(BaseModel):
    name: str
    role: Role


class AuditEntry(BaseModel):
    """One recorded operation: who, what, on what, when, and how it ended (ok, denied, error)."""

    at: datetime
    user: str
    action: str
    target: str
    result: str
    detail: str = ""
