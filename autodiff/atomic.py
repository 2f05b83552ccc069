"""Writing a file whole or not at all, shared by nn (saved models) and viz (drawings, pages).

`write_atomic(path, data)` writes `data` to a temporary file in the folder of the file it
replaces and renames it over that file, so a reader sees the old file or the new one, never
half of one. Beyond that:

- A symlink is written through: its target is replaced, in the target's own folder, and the
  link stays a link.
- An existing file keeps its permission bits (a 0600 file stays 0600). A new file gets the bits
  `open(path, 'w')` would give it, 0o666 less the umask, because the temporary file is created
  with `os.open(..., 0o666)` and the kernel applies the umask there; the umask is never read or
  changed, so no other thread can be caught by a temporarily changed one.
- Only a regular file (or nothing) may be at the path: a directory, FIFO, device or socket is
  refused before anything is written.
- Errors name the caller's path, never the temporary file: an OSError keeps its kind, errno and
  reason, with the caller's path as its filename.
- Temporary files are named `.<name>.tmp-<pid>-<token>`, and the writer holds an flock on its
  own while it writes. A save that was killed half way leaves one behind; the next save of the
  same path removes every such file that no live writer holds.

What a rename cannot keep: the replaced file's owner and group (the new file is the writer's),
extended ACLs, and hard links to it (they keep the old contents).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import stat
import time

from .arguments import check_path

try:
    import fcntl
except ImportError:  # Windows: no flock, so only old temporary files count as abandoned
    fcntl = None

# A temporary file older than this whose writer cannot be asked is taken to be abandoned.
STALE_AFTER = 3600.0
_NAME_MAX = 255
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def write_atomic(path: str | os.PathLike, data: bytes | str, name: str = "path") -> None:
    """Replace the file at `path` with `data` (str is written as UTF-8), all at once or not at all.

    `name` is how errors about the argument itself call it (e.g. "MLP.save() path").

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), 'note.txt')
    >>> write_atomic(path, 'hello')
    >>> open(path).read()
    'hello'
    """
    shown = check_path(path, name)
    if isinstance(data, str):
        data = data.encode("utf-8")
    elif not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"write_atomic() data must be bytes or str, got {type(data).__name__}")
    target = _resolved(shown)
    folder, base = os.path.split(target)
    mode = _existing_mode(shown, target)
    try:
        _remove_abandoned(folder, base)
        fd, temporary = _create(folder, base, mode)
    except OSError as error:
        raise _named(error, shown) from None
    try:
        _write_all(fd, data)
        os.fsync(fd)
        # renamed while the lock is held, so no other save can take it for abandoned meanwhile
        os.replace(temporary, target)
    except BaseException as error:
        _unlink_quietly(temporary)
        os.close(fd)
        if isinstance(error, OSError):
            raise _named(error, shown) from None
        raise
    os.close(fd)
    _sync_folder(folder)


def _resolved(path: str) -> str:
    """`path` with every symlink followed: the file that will be replaced (it may not exist yet)."""
    return os.path.realpath(path)


def _existing_mode(shown: str, target: str) -> int | None:
    """The permission bits of the regular file at `target`, None if there is none, else an error."""
    folder = os.path.dirname(target)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        if not os.path.isdir(folder):
            raise FileNotFoundError(errno.ENOENT, f"No such folder {folder!r} to write in", shown) from None
        return None
    except OSError as error:
        raise _named(error, shown) from None
    if stat.S_ISREG(info.st_mode):
        return stat.S_IMODE(info.st_mode)
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory; give a file name inside it", shown)
    if stat.S_ISLNK(info.st_mode):
        raise ValueError(f"cannot write {shown!r}: its symlinks form a loop")
    kind = next((what for test, what in _KINDS if test(info.st_mode)), "not a regular file")
    raise ValueError(f"cannot write {shown!r}: it is {kind}, not a regular file; give the path of "
                     f"a file (existing or new)")


def _prefix(base: str) -> str:
    # A long name would leave no room for the suffix: such files' temporaries use a digest.
    if len(os.fsencode(base)) > _NAME_MAX - 40:
        base = hashlib.sha256(os.fsencode(base)).hexdigest()[:32]
    return f".{base}.tmp-"


def _create(folder: str, base: str, mode: int | None) -> tuple[int, str]:
    """A new, locked temporary file beside the target, with the target's final permissions."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    prefix = _prefix(base)
    while True:
        temporary = os.path.join(folder, f"{prefix}{os.getpid()}-{secrets.token_hex(8)}")
        try:
            # a new file: the kernel applies the umask to 0o666, as open() does; an existing
            # file's bits are set before any data is written, so the data are never more exposed
            fd = os.open(temporary, flags, 0o666 if mode is None else 0o600)
        except FileExistsError:
            continue
        break
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        if mode is not None:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            else:
                os.chmod(temporary, mode)
    except BaseException:
        _unlink_quietly(temporary)
        os.close(fd)
        raise
    return fd, temporary


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _remove_abandoned(folder: str, base: str) -> None:
    """Delete the temporary files of saves of this path that died before renaming them."""
    prefix = _prefix(base)
    pattern = re.compile(re.escape(prefix) + r"(\d+)-[0-9a-f]{16}")
    try:
        # a folder of many files (a drawing's frames) is scanned at C speed: only names that
        # start like ours are matched further
        entries = [entry.name for entry in os.scandir(folder)
                   if entry.name.startswith(prefix) and pattern.fullmatch(entry.name)]
    except OSError:
        return  # an unreadable folder: the save itself will say what is wrong
    for entry in entries:
        pid = int(pattern.fullmatch(entry).group(1))
        _remove_if_abandoned(os.path.join(folder, entry), pid)


def _remove_if_abandoned(path: str, pid: int) -> None:
    try:
        # non-blocking: a FIFO given one of our names must not stop the save
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
                     | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return  # gone already, or a symlink: not one of ours
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return
        age = time.time() - info.st_mtime
        if fcntl is None:
            abandoned = age > STALE_AFTER
        else:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return  # a live writer holds it
            # Unlocked but its writer alive: a save between creating and locking its file, or
            # an unrelated process that reuses a dead writer's pid (then age decides).
            abandoned = pid != os.getpid() and (not _alive(pid) or age > STALE_AFTER)
        if abandoned:
            _unlink_quietly(path)
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX only; elsewhere the rename is all there is)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _named(error: OSError, shown: str) -> OSError:
    """The same error about the caller's path (its errno, its reason), not about a temporary file."""
    return type(error)(error.errno, error.strerror or str(error), shown)
