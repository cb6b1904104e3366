"""Typed errors raised by the library; the CLI maps each to a one-line message and an exit code."""

from __future__ import annotations


class ProvisionerError(Exception):
    """Base class for every error the CLI knows how to report."""

    exit_code: int = 1


class InputError(ProvisionerError):
    """Bad input: refused before anything is created or written."""

    exit_code = 2


class NotFoundError(InputError):
    """A referenced component, connector, stack, secret or flavor does not exist."""


class ConflictError(InputError):
    """A name is already taken, or a rule of the registry would be broken."""


class InUseError(InputError):
    """The object is still used by another one and cannot be deleted."""


class PermissionDeniedError(InputError):
    """The current user may not perform the action."""


class OperationFailedError(ProvisionerError):
    """The operation started but failed (cloud error, failed resource)."""

    exit_code = 1


class StackLockedError(InputError):
    """Another run holds the stack's lock."""


class AuthenticationError(InputError):
    """No valid API token: missing, unknown, expired or revoked, or its user is disabled."""
