"""One operation per stack: a lock row in the registry, naming its holder."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from provisioner.errors import InputError, StackLockedError
from provisioner.registry.models import LockInfo
from provisioner.registry.store import Store


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StackLocks:
    """Takes and releases per-stack locks in the registry's database."""

    def __init__(self, store: Store, user: str) -> None:
        self._store = store
        self._user = user

    @contextmanager
    def hold(self, stack_name: str, operation: str) -> Iterator[LockInfo]:
        """Hold ``stack_name``'s lock for the block (re-entrant within one process).

        A lock whose holder died on this host (its pid is gone) is taken over; any other holder
        makes this raise at once.

        Raises:
            StackLockedError: another run holds the lock (exit 2, naming the holder).
        """
        lock = LockInfo(
            name=stack_name, operation=operation, user=self._user, host=socket.gethostname(), pid=os.getpid(),
            token=secrets.token_hex(16), since=datetime.now(timezone.utc).replace(tzinfo=None),
        )
        with self._store.transaction() as tx:
            taken = self._take(tx, lock)
        if not taken:  # this process holds it already (a deploy, then its registration)
            yield lock
            return
        try:
            yield lock
        finally:
            with self._store.transaction() as tx:
                tx.delete_lock(stack_name, lock.token)

    def take(self, lock: LockInfo) -> bool:
        """Take ``lock`` as described (a server takes it for a client); False when its holder already has it."""
        with self._store.transaction() as tx:
            return self._take(tx, lock)

    def release(self, stack_name: str, token: str) -> bool:
        """Release the lock if it still carries ``token``."""
        with self._store.transaction() as tx:
            return tx.delete_lock(stack_name, token)

    def _take(self, tx: Any, lock: LockInfo) -> bool:
        """Insert the lock row; False when this same process already holds it."""
        if tx.insert_lock(lock):
            return True
        holder = tx.lock_holder(lock.name)
        if holder is not None and (holder.host, holder.pid) == (lock.host, lock.pid):
            return False
        if holder is not None and not self._stale(holder):
            raise StackLockedError(
                f"stack {lock.name!r} is locked: {holder.describe()}; wait for it to finish, or if that run "
                "is dead, clear it with provisioner unlock (with --force when it ran on another host)"
            )
        tx.delete_lock(lock.name)
        if not tx.insert_lock(lock):
            raise StackLockedError(f"stack {lock.name!r} was locked by another run a moment ago; try again")
        return True

    def holder(self, stack_name: str) -> LockInfo | None:
        with self._store.transaction() as tx:
            return tx.lock_holder(stack_name)

    def clear(self, stack_name: str, *, force: bool = False) -> LockInfo | None:
        """Remove a stale lock (dead pid on this host), or any lock with ``force``; returns what was removed.

        Raises:
            InputError: the holder may still be running (another host, or a live pid) and ``force`` is off.
        """
        with self._store.transaction() as tx:
            holder = tx.lock_holder(stack_name)
            if holder is None:
                return None
            if not force and not self._stale(holder):
                raise InputError(
                    f"stack {stack_name!r} is locked by a run that may still be alive ({holder.describe()}); "
                    "pass --force if you are sure it is not"
                )
            tx.delete_lock(stack_name)
            return holder

    @staticmethod
    def _stale(holder: LockInfo) -> bool:
        return holder.host == socket.gethostname() and not _pid_alive(holder.pid)
