"""What an interrupted write leaves behind, and when it is safe to remove it.

Runs and reports are written under a hidden temporary name and renamed into place, so a
crash (kill -9, a power cut) never leaves a partial run or report where it is read; it can
leave the temporary behind, which every reader ignores (its name starts with a dot). The
name ends with `~PID@HOST`, its writer, and the next write into the same folder removes the
temporaries whose writer is gone: a process of this host that no longer exists. Those of a
live process (a run being stored right now) or of another host are never touched.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path


def owner_tag() -> str:
    """`~PID@HOST`: the end of a temporary's name, saying which process writes it."""
    return f"~{os.getpid()}@{socket.gethostname()}"


def writer_gone(name: str) -> bool:
    """Whether the temporary `name` (ending with an owner tag) was left by a process of
    this host that has ended. False whenever that is not certain."""
    _, tilde, tag = name.rpartition("~")
    pid_text, at, host = tag.partition("@")
    if not tilde or not at or not pid_text.isdigit() or host != socket.gethostname():
        return False
    pid = int(pid_text)
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def sweep(folder: Path, prefix: str) -> None:
    """Remove the temporaries named `prefix...~PID@HOST` in `folder` whose writer is gone."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(prefix) or not writer_gone(entry.name):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            pass  # removed by another writer at the same time, or not ours to remove


def fsync_dir(folder: Path) -> None:
    """Make a rename into `folder` durable (it is atomic already; this survives power loss)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename is still atomic
    finally:
        os.close(fd)


def write_text(path: Path | str, text: str) -> Path:
    """Write a file whole or not at all: a hidden temporary beside it (named with its
    writer's owner tag), flushed and synced, then renamed over `path`. A file being
    replaced stays whole until then; a temporary that kill -9 left behind is removed by
    the next write into the same folder. The one way evalkit writes a single file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep(path.parent, f".{path.name}.")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=owner_tag(), dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path
