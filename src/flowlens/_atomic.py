"""Writes that destroy nothing without consent: no overwrite unless asked, every write atomic.

Every file flowlens writes goes through :func:`write_atomic` (one file) or
:func:`write_unit` (several files that stand or fall together, such as the clean
rows and the rejects of one validation run):

- the target's folder must exist (:class:`OutputError` names it otherwise);
- an existing target is refused (:class:`OutputExistsError`) unless
  ``overwrite=True``;
- the bytes go to a temporary file in the target's folder (on Linux an unnamed
  ``O_TMPFILE`` file, which vanishes by itself if the process is killed;
  elsewhere a dot-prefixed ``.<name>.<random>.flowlens-tmp`` file), are flushed
  to disk (``fsync``), and only then take the target's name (a hard link when
  nothing may be overwritten, so a file that appeared meanwhile is not
  replaced either; ``os.replace`` otherwise). A failure leaves the old file, or
  none, never half a result.

Directories (the synthetic generator's output) go through :func:`staged_directory`.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowlens.errors import OutputError, OutputExistsError

__all__ = [
    "TEMP_MARK",
    "check_target",
    "staged_directory",
    "write_atomic",
    "write_unit",
]

TEMP_MARK = ".flowlens-tmp"
"""Part of the name of every named temporary file or folder flowlens writes."""
_OLD_MARK = ".flowlens-old"

Writer = Callable[[str], None]
"""Writes the whole output to the path it is given (a temporary path, not the target)."""


def check_target(path: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse a target whose folder is missing, that is a directory, or that exists (unless
    ``overwrite``); return it as a Path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from flowlens._atomic import check_target
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_target(folder / "new.csv").name
    'new.csv'
    >>> check_target(folder / "missing" / "new.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    flowlens.errors.OutputError: cannot write '.../missing/new.csv': the folder '.../missing' does not exist; create it first
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        msg = f"cannot write {str(path)!r}: the folder {str(folder)!r} {what}; create it first"
        raise OutputError(msg)
    if path.is_dir():
        msg = f"cannot write {str(path)!r}: it is a directory; give a file name"
        raise OutputError(msg)
    if not overwrite and (path.exists() or path.is_symlink()):
        msg = (
            f"{str(path)!r} exists already; flowlens does not overwrite without consent: "
            "pass overwrite=True (--force on the command line) or choose another name"
        )
        raise OutputExistsError(msg)
    return path


def write_atomic(path: str | Path, write: Writer, *, overwrite: bool = False) -> Path:
    """Run ``write`` on a temporary file beside ``path``, then give it ``path``'s name.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from flowlens._atomic import write_atomic
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
    >>> _ = write_atomic(target, lambda p: pathlib.Path(p).write_text("hello"))
    >>> target.read_text()
    'hello'
    >>> write_atomic(target, lambda p: None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    flowlens.errors.OutputExistsError: '...note.txt' exists already; ...
    """
    return write_unit([(path, write)], overwrite=overwrite)[0]


def write_unit(
    items: Sequence[tuple[str | Path, Writer]], *, overwrite: bool = False
) -> list[Path]:
    """Write several files as one unit: all of them appear, or none (the old files stay).

    Every writer runs on its own temporary file first; only when all have
    succeeded do the files take their names. If giving a name fails, the files
    already named are taken back (the old files restored).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from flowlens._atomic import write_unit
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> def fail(path):
    ...     raise RuntimeError("disk full")
    >>> write_unit([(folder / "a.txt", lambda p: pathlib.Path(p).write_text("a")),
    ...             (folder / "b.txt", fail)])
    Traceback (most recent call last):
    ...
    RuntimeError: disk full
    >>> sorted(p.name for p in folder.iterdir())
    []
    """
    targets = [check_target(path, overwrite=overwrite) for path, _ in items]
    resolved = [os.path.realpath(t) for t in targets]
    if len(set(resolved)) < len(resolved):
        msg = f"two outputs of one run are the same file: {[str(t) for t in targets]}"
        raise OutputError(msg)
    staged: list[_Staged] = []
    try:
        for target, (_, write) in zip(targets, items, strict=True):
            staged.append(_Staged.open(target))
            write(staged[-1].path)
            staged[-1].sync()
        _commit(staged, overwrite=overwrite)
    finally:
        for item in staged:
            item.discard()
    return targets


@dataclass
class _Staged:
    """A temporary file beside ``target``: unnamed (``fd``) on Linux, else named (``temp``)."""

    target: Path
    fd: int | None = None
    temp: Path | None = None
    backup: Path | None = None
    committed: bool = field(default=False)

    @classmethod
    def open(cls, target: Path) -> _Staged:
        flag = getattr(os, "O_TMPFILE", 0)
        if flag and _linkat() is not None:
            try:
                fd = os.open(target.parent, flag | os.O_WRONLY, 0o666 & ~_umask())
            except OSError:  # the file system has no unnamed files: a named one
                pass
            else:
                return cls(target=target, fd=fd)
        temp = _temp_name(target)
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 & ~_umask()))
        return cls(target=target, temp=temp)

    @property
    def path(self) -> str:
        """Where the writer writes (``/proc/self/fd/N`` for an unnamed file)."""
        return f"/proc/self/fd/{self.fd}" if self.fd is not None else str(self.temp)

    def sync(self) -> None:
        fd = self.fd if self.fd is not None else os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            if fd != self.fd:
                os.close(fd)

    def named(self) -> Path:
        """A name for the temporary file (linking an unnamed one to a hidden name)."""
        if self.temp is None:
            if self.fd is None:
                msg = "a staged file has neither a name nor a descriptor"
                raise RuntimeError(msg)
            self.temp = _temp_name(self.target)
            _link_unnamed(self.fd, self.temp)
        return self.temp

    def name_it(self, *, overwrite: bool) -> None:
        """Give the file its target's name; when overwriting, keep the old file aside
        (a second hard link) until the whole unit is named."""
        if overwrite and (self.target.exists() or self.target.is_symlink()):
            self.backup = _temp_name(self.target, mark=_OLD_MARK)
            try:
                os.link(self.target, self.backup, follow_symlinks=False)
            except OSError:  # no hard links here: the old file cannot be taken back
                self.backup = None
            self.named().replace(self.target)  # atomic: the old file until this instant
            self.temp = None
            self.committed = True
            return
        try:  # a hard link: atomic, and never replaces a file
            if self.fd is not None:
                _link_unnamed(self.fd, self.target)
            else:
                os.link(self.named(), self.target)
        except FileExistsError as exc:
            msg = f"{str(self.target)!r} appeared while flowlens was writing it; nothing replaced"
            raise OutputExistsError(msg) from exc
        except OSError:  # no hard links here (e.g. FAT): rename the named file instead
            if self.fd is not None or self.target.exists():
                raise
            self.named().replace(self.target)
        self.committed = True

    def undo(self) -> None:
        """Take the name back, restoring the old file if there was one."""
        if self.committed:
            with contextlib.suppress(OSError):
                self.target.unlink()
            self.committed = False
        if self.backup is not None:
            self.backup.replace(self.target)
            self.backup = None

    def discard(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        for leftover in (self.temp, self.backup):
            if leftover is not None:
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
        self.temp = self.backup = None


def _commit(staged: list[_Staged], *, overwrite: bool) -> None:
    try:
        for item in staged:
            item.name_it(overwrite=overwrite)
    except BaseException:
        for item in reversed(staged):
            item.undo()
        raise
    for folder in {item.target.parent for item in staged}:
        _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entries (the new names) to disk, where the system allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _temp_name(target: Path, mark: str = TEMP_MARK) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}{mark}")


@functools.cache
def _linkat() -> Any:
    """libc's ``linkat`` (Linux), which names an unnamed ``O_TMPFILE`` file; else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.linkat
    except (OSError, AttributeError):
        return None


def _link_unnamed(fd: int, target: Path) -> None:
    """Give the unnamed file ``fd`` the name ``target`` (fails if ``target`` exists)."""
    at_fdcwd, at_symlink_follow = -100, 0x400
    source = f"/proc/self/fd/{fd}".encode()
    if _linkat()(at_fdcwd, source, at_fdcwd, os.fsencode(target), at_symlink_follow) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(target))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def staged_directory(
    path: str | Path, *, overwrite: bool, owned: Callable[[Path], bool]
) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it becomes ``path``.

    ``path`` may be missing or empty; if it holds files, ``overwrite`` must be
    True *and* every entry must pass ``owned`` (an earlier output of the same
    writer), so that no unrelated file is ever removed. On failure the temporary
    folder is removed and ``path`` is untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from flowlens._atomic import staged_directory
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> with staged_directory(out, overwrite=False, owned=lambda p: True) as folder:
    ...     _ = (folder / "part-0.txt").write_text("x")
    >>> sorted(p.name for p in out.iterdir())
    ['part-0.txt']
    """
    out = Path(path)
    parent = out.absolute().parent
    if out.exists() and not out.is_dir():
        msg = f"cannot write to {str(out)!r}: it is a file, not a directory"
        raise OutputError(msg)
    entries = list(out.iterdir()) if out.is_dir() else []
    if entries and not overwrite:
        msg = (
            f"{str(out)!r} is not empty; flowlens does not overwrite without consent: choose a "
            "new or empty directory, or pass overwrite=True (--force) to replace an earlier output"
        )
        raise OutputExistsError(msg)
    strangers = [p.name for p in entries if not owned(p)]
    if strangers:
        msg = (
            f"{str(out)!r} holds files this writer did not make ({strangers[:3]}); even with "
            "overwrite=True they are not removed: choose a new or empty directory"
        )
        raise OutputError(msg)
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".{out.absolute().name}.{secrets.token_hex(4)}{TEMP_MARK}"
    staging.mkdir()
    try:
        yield staging
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_in(staging: Path, out: Path) -> None:
    """Put ``staging`` where ``out`` is (an earlier output, moved aside and then removed)."""
    old = None
    if out.is_dir():
        old = staging.with_name(staging.name.replace(TEMP_MARK, _OLD_MARK))
        out.replace(old)
    try:
        staging.replace(out)
    except BaseException:
        if old is not None:
            old.replace(out)
        raise
    _sync_folder(out.absolute().parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
