"""Where provisioner keeps its files: one home folder, movable with PROVISIONER_HOME."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

HOME_ENV = "PROVISIONER_HOME"
STORE_URL_ENV = "PROVISIONER_STORE_URL"


_checked_homes: set[Path] = set()


def home() -> Path:
    """Return the provisioner home, creating it (mode 0700) if needed; a home open to others is tightened."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        path = Path(configured).expanduser()
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir("provisioner", appauthor=False))
    private_dir(path)
    if path not in _checked_homes:
        _checked_homes.add(path)
        tighten_home(path)
    return path


def tighten_home(path: Path) -> list[Path]:
    """Make the home's folders 0700 and its files 0600; say so on stderr for each one changed."""
    import stat
    import sys

    changed: list[Path] = []
    for entry in [path, *path.rglob("*")]:
        try:
            info = entry.lstat()
        except OSError:
            continue
        if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
            continue
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            os.chmod(entry, mode & ~0o077)
            changed.append(entry)
    for entry in changed:
        print(f"warning: {entry} was open to other users; removed their access", file=sys.stderr)
    return changed


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents with mode 0700 (``mkdir(parents=True)`` would give
    the parents the umask's default mode)."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)
    return path


def private_sqlite_file(url: str) -> None:
    """Create a local SQLite database file with mode 0600 before SQLite does (it would use the umask)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix or ":memory:" in url:
        return
    path = Path(url[len(prefix):])
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def store_url() -> str:
    """The registry database URL: PROVISIONER_STORE_URL, else a SQLite file in the home."""
    return os.environ.get(STORE_URL_ENV) or f"sqlite:///{home() / 'registry.db'}"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_private_file(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with ``data`` (mode 0600): a temp file in the same folder, fsync, rename.

    A kill at any point leaves either the old content or the new one, never a truncated file.
    """
    import tempfile

    private_dir(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_new_file(path: Path, *, force: bool = False) -> Path:
    """Refuse a user-named output path before anything is written; returns the absolute path.

    Raises:
        InputError: the path is inside the provisioner home, is a symlink, is not a regular file,
            or exists (without ``force``).
    """
    from provisioner.errors import InputError

    target = Path(os.path.abspath(path))
    provisioner_home = home().resolve()
    resolved_parent = target.parent.resolve()
    if resolved_parent == provisioner_home or provisioner_home in resolved_parent.parents:
        raise InputError(f"refusing to write {str(path)!r}: it is inside the provisioner home ({provisioner_home})")
    if target.is_symlink():
        raise InputError(f"refusing to write {str(path)!r}: it is a symbolic link")
    if target.exists():
        if not target.is_file():
            raise InputError(f"refusing to write {str(path)!r}: it is not a regular file")
        if not force:
            raise InputError(f"{str(path)!r} exists: choose another file, or pass --force to replace it")
    return target


def create_new_file(path: Path, data: bytes, *, force: bool = False, mode: int = 0o600) -> None:
    """Write a user-named output file (an export): never inside the home, never through a symlink
    (O_NOFOLLOW), never over an existing file unless ``force`` (then replaced atomically)."""
    from provisioner.errors import InputError

    target = check_new_file(path, force=force)
    if force and target.exists():
        write_private_file(target, data)
        os.chmod(target, mode)
        return
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    except FileExistsError:
        raise InputError(f"{str(path)!r} exists: choose another file, or pass --force to replace it") from None
    except OSError as exc:
        raise InputError(f"cannot write {str(path)!r}: {exc.strerror}") from None
    try:
        os.fchmod(fd, mode)
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def create_private_file_once(path: Path, data: bytes) -> None:
    """Create ``path`` (0600) with ``data`` unless it exists; safe when several processes race."""
    import tempfile

    if path.exists():
        return
    private_dir(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        _write_all(fd, data)
        os.fsync(fd)
        os.close(fd)
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)  # fails if another process created it first: keep theirs
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)


def read_value_file(path: str, what: str) -> str:
    """A value a user keeps in a file (``KEY=@FILE``): its text without the last newline.

    Raises:
        InputError: the file cannot be read, naming ``what`` and the reason.
    """
    from provisioner.errors import InputError

    try:
        return Path(path).read_text(encoding="utf-8").removesuffix("\n")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"cannot read {what} from {path!r}: {reason}") from None
