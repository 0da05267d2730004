"""Writing inside a run folder: whole files atomically, artifacts under names that stay inside.

A reader (`runs show`, a crash) must never see half a run.json, so files are written to a
temporary name, fsynced and renamed over the old one. Artifact names come from code a model
wrote, so they are reduced to one plain file name and opened without following symlinks.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterable
from pathlib import Path

from ..domain import Artifact

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so readers see the old file or the new one, never a mix."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable (a no-op where dirs cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def safe_name(name: str) -> str:
    """One plain file name for an artifact name: path parts joined by `_`, odd characters
    replaced, no leading dot (hidden) or dash (looks like an option), at most 120 characters.

    `../../etc/x` becomes `etc_x`; `plots/fig 1.png` becomes `plots_fig_1.png`.
    """
    parts = [p for p in re.split(r"[\\/]+", name.replace("\0", "")) if p not in ("", ".", "..")]
    flat = _UNSAFE.sub("_", "_".join(parts)).lstrip(".-_")
    if not flat:
        return "artifact"
    if len(flat) > _MAX_NAME:
        stem, dot, suffix = flat.rpartition(".")
        keep = f".{suffix}" if dot and stem and len(suffix) <= 10 else ""
        flat = flat[: _MAX_NAME - len(keep)] + keep
    return flat


def write_artifacts(artifacts: Iterable[Artifact], directory: Path) -> dict[str, str]:
    """Write each artifact into `directory` (created); return artifact name -> file name.

    Two artifacts that reduce to the same file name get `-1`, `-2`... before the suffix.
    Raises OSError when a file cannot be written, after writing the ones before it.
    """
    directory.mkdir(parents=True, exist_ok=True)
    root = directory.resolve()
    written: dict[str, str] = {}
    taken: set[str] = set()
    for artifact in artifacts:
        name = _unused(safe_name(artifact.name), taken)
        target = root / name
        if target.parent != root:  # cannot happen after safe_name; kept as the last guard
            raise OSError(f"artifact name {artifact.name!r} leads outside {root}")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(artifact.data)
            f.flush()
            os.fsync(f.fileno())
        taken.add(name)
        written[artifact.name] = name
    return written


def _unused(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    stem, dot, suffix = name.rpartition(".")
    while candidate in taken:
        candidate = f"{stem}-{n}.{suffix}" if dot and stem else f"{name}-{n}"
        n += 1
    return candidate
