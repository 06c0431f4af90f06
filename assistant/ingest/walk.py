"""``walk()``: the files named by the user's path arguments, in a stable order.

Like ripgrep and find, folder symlinks are not followed, so a link loop cannot make
the walk endless and no file is reached twice through an alias; a file symlink is a
file. Hidden names (".git", ".DS_Store") are skipped inside folders, but a hidden
path given explicitly is walked. Files of every type are yielded: ``read()`` says
why it rejects one, and the user sees that reason rather than a silent skip.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path


def walk(
    paths: Iterable[Path], skip: Callable[[Path], bool] = lambda path: False
) -> Iterator[tuple[Path, Path]]:
    """Yield ``(file, root)`` for every file under ``paths``, leaving out the files and
    folders inside them that ``skip`` names (the parts of an index kept among the articles).

    A folder argument gives every file under it, recursively, with ``root`` the
    resolved folder; a file argument gives itself, with ``root`` its parent folder.
    A file reached from two arguments is yielded once. A folder that cannot be listed
    is yielded itself, so that ``read()`` reports it. Raises ``FileNotFoundError``,
    before yielding anything, for an argument that does not exist.
    """
    arguments = [Path(p) for p in paths]
    for argument in arguments:
        if not argument.exists():
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(argument))
    seen: set[Path] = set()
    for argument in arguments:
        for file, root in _walk_argument(argument, skip):
            if file not in seen:
                seen.add(file)
                yield file, root


def _walk_argument(argument: Path, skip: Callable[[Path], bool]) -> Iterator[tuple[Path, Path]]:
    if argument.is_dir():
        root = argument.resolve()
        yield from ((file, root) for file in _files_under(root, skip))
    else:
        # Resolve the folder but keep the file's own name, which may be a symlink.
        root = argument.absolute().parent.resolve()
        yield root / argument.name, root


def _files_under(top: Path, skip: Callable[[Path], bool]) -> Iterator[Path]:
    # An explicit stack, not recursion: folder depth is not bounded by Python's.
    pending = [_listing(top)]
    while pending:
        item = next(pending[-1], None)
        if item is None:
            pending.pop()
            continue
        path, is_folder = item
        if skip(path):
            continue
        if is_folder:
            pending.append(_listing(path))
        else:
            yield path


def _listing(folder: Path) -> Iterator[tuple[Path, bool]]:
    """(path, is a folder to enter) for the visible entries of ``folder``, sorted."""
    try:
        with os.scandir(folder) as entries:
            listing = sorted((e for e in entries if not e.name.startswith(".")), key=_name)
    except OSError:
        yield folder, False
        return
    for entry in listing:
        if entry.is_dir(follow_symlinks=False):
            yield folder / entry.name, True
        elif not _is_dir_link(entry):
            yield folder / entry.name, False


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _is_dir_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink() and entry.is_dir()
    except OSError:
        return False
