"""Library errors on the wire: an HTTP status and ``{"error": {"type", "message"}}``, mapped back by the client."""

from __future__ import annotations

from provisioner import errors

# Status per error type, most specific first (a subclass is listed before its base).
STATUS: tuple[tuple[type[errors.ProvisionerError], int], ...] = (
    (errors.AuthenticationError, 401),
    (errors.PermissionDeniedError, 403),
    (errors.NotFoundError, 404),
    (errors.StackLockedError, 423),
    (errors.InUseError, 409),
    (errors.ConflictError, 409),
    (errors.InputError, 400),
    (errors.OperationFailedError, 502),
    (errors.ProvisionerError, 500),
)

# The types a client may raise again from a response (anything else becomes OperationFailedError).
KNOWN: dict[str, type[errors.ProvisionerError]] = {cls.__name__: cls for cls, _status in STATUS}


def status_of(exc: errors.ProvisionerError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(exc: errors.ProvisionerError) -> dict[str, dict[str, str]]:
    """The response body: the most specific known type name and the one-line message."""
    name = next(cls.__name__ for cls, _status in STATUS if isinstance(exc, cls))
    return {"error": {"type": name, "message": " ".join(str(exc).split())}}
