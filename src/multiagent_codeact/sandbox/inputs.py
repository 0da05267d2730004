"""Input files for sandbox jobs: the user's files and folders, copied once into a folder the jail
sees read-only, and linked into each job's work dir under their own names.

Why a copy: every job of one verification then reads the same bytes even if the original changes
during the run, and nothing beside the named files is reachable (a folder's symlinks that lead
out of it are refused, special files too). Why a link per job: the code opens `sales.csv` as it
would next to the file at home, and the program it ends with runs there unchanged.

The folder that holds every staged set can be traversed but not listed (mode 0311), and each set
sits under a random name: a job reaches the set it was given and no other.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from ..errors import InputFileError

__all__ = [
    "DEFAULT_MAX_INPUT_MB",
    "RESERVED_PREFIX",
    "InputFiles",
    "scan_inputs",
]

DEFAULT_MAX_INPUT_MB = 1024
MAX_INPUT_FILES = 10_000
# Names the sandbox's own harnesses use in a work dir; an input may not take one.
RESERVED_PREFIX = ".mca-"
_PREVIEW_LINES = 5
_PREVIEW_CHARS = 600


@dataclass(frozen=True)
class _Entry:
    """One file to copy: where it is, where it goes (relative to the set), how big it is."""

    source: Path
    target: str
    size: int


@dataclass(frozen=True)
class InputScan:
    """What a list of input paths holds, checked: top-level names and every file in them."""

    names: dict[str, Path]  # the name the code opens -> the user's path
    entries: tuple[_Entry, ...]

    @property
    def total_bytes(self) -> int:
        return sum(e.size for e in self.entries)


def scan_inputs(paths: Iterable[str | os.PathLike[str]], *, max_mb: int) -> InputScan:
    """Check input paths before anything runs: each exists, is a file or a folder of files,
    two of them do not share a name, and together they fit in `max_mb`. InputFileError
    otherwise, naming the path and the fix."""
    names: dict[str, Path] = {}
    entries: list[_Entry] = []
    for raw in paths:
        path = Path(raw).expanduser()
        name = path.resolve().name if path.name in ("", ".", "..") else path.name
        if not os.path.lexists(path):
            raise InputFileError(f"input file {str(raw)!r}: no such file or folder")
        if name.startswith(RESERVED_PREFIX):
            raise InputFileError(
                f"input file {str(raw)!r}: names beginning with {RESERVED_PREFIX!r} are the "
                "sandbox's own; rename it"
            )
        if name in names:
            raise InputFileError(
                f"two input files are named {name!r} ({names[name]} and {path}): the code opens "
                "inputs by name, so rename one of them"
            )
        names[name] = path
        if path.is_dir():
            entries += _folder(path, name)
        else:
            entries.append(_file(path, name, path))
        if len(entries) > MAX_INPUT_FILES:
            raise InputFileError(
                f"input folder {str(raw)!r}: more than {MAX_INPUT_FILES:,} files; name fewer "
                "or pack them into an archive"
            )
    scan = InputScan(names=names, entries=tuple(entries))
    if scan.total_bytes > max_mb * 1024 * 1024:
        raise InputFileError(
            f"input files total {_size(scan.total_bytes)}, over the limit of {max_mb} MB; "
            "give fewer or smaller files, or raise the limit (the pipeline setting input_mb, "
            "or Sandbox(input_mb=...))"
        )
    return scan


def _file(path: Path, target: str, shown: Path) -> _Entry:
    try:
        st = path.stat()
    except OSError as exc:
        raise InputFileError(f"input file {str(shown)!r}: cannot read it: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputFileError(
            f"input file {str(shown)!r}: not a regular file (a device, socket or pipe); give "
            "files or folders of files"
        )
    if not os.access(path, os.R_OK):
        raise InputFileError(f"input file {str(shown)!r}: cannot read it: permission denied")
    return _Entry(source=path, target=target, size=st.st_size)


def _folder(root: Path, name: str) -> list[_Entry]:
    real_root = root.resolve()
    found: list[_Entry] = []
    for here, dirs, files in os.walk(root, onerror=_walk_error):
        dirs.sort()
        for entry in [*dirs, *files]:
            path = Path(here, entry)
            if path.is_symlink() and not path.resolve().is_relative_to(real_root):
                raise InputFileError(
                    f"input folder {str(root)!r}: {path} is a link to {os.path.realpath(path)}, "
                    "outside the folder; only what is inside a named folder is given to the code"
                )
        for fname in sorted(files):
            path = Path(here, fname)
            rel = path.relative_to(root).as_posix()
            found.append(_file(path, f"{name}/{rel}", path))
        # A link to a folder inside this one: its files are listed where the link points.
        dirs[:] = [d for d in dirs if not Path(here, d).is_symlink()]
    return found


def _walk_error(exc: OSError) -> None:
    raise InputFileError(f"input folder: cannot read {exc.filename}: {exc.strerror}")


@dataclass
class InputFiles:
    """A staged set of input files (`Sandbox.input_files`): `names` are what the code opens in
    its work dir. Closing it (or leaving its `with` block) removes the copy."""

    names: tuple[str, ...]
    files: tuple[tuple[str, int], ...]  # every file: (path relative to the work dir, bytes)
    host_dir: Path
    jail_dir: str
    _closed: bool = field(default=False, repr=False)

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)

    @property
    def closed(self) -> bool:
        return self._closed

    def links(self) -> dict[str, str]:
        """What each job links into its work dir: name -> the file's path inside the jail."""
        if self._closed:
            raise InputFileError("these input files were closed; stage them again")
        return {name: f"{self.jail_dir}/{name}" for name in self.names}

    def describe(self) -> str:
        """The files as a model is told of them: name, size, the first lines of text files."""
        lines = []
        for name in self.names:
            path = self.host_dir / name
            if path.is_dir():
                inside = [(rel, size) for rel, size in self.files if rel.startswith(name + "/")]
                shown = ", ".join(rel for rel, _ in inside[:5])
                more = f", and {len(inside) - 5} more" if len(inside) > 5 else ""
                total = _size(sum(size for _, size in inside))
                folder = f"a folder of {_count(len(inside))}, {total}"
                lines.append(f"- `{name}/`: {folder} ({shown}{more})")
                continue
            lines.append(f"- `{name}` ({_size(path.stat().st_size)})" + _preview(path))
        return "\n".join(lines)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        _remove(self.host_dir)

    def __enter__(self) -> InputFiles:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def stage(scan: InputScan, root: Path, jail_root: str) -> InputFiles:
    """Copy a checked scan under `root` (the folder the jail sees at `jail_root`), read-only."""
    key = secrets.token_hex(16)
    host_dir = root / key
    host_dir.mkdir(mode=0o755)
    try:
        for name, source in scan.names.items():
            if source.is_dir():  # made even when empty: the job's link must lead somewhere
                (host_dir / name).mkdir(mode=0o755, exist_ok=True)
        for entry in scan.entries:
            target = host_dir / entry.target
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            try:
                shutil.copyfile(entry.source, target)
            except OSError as exc:
                raise InputFileError(
                    f"input file {str(entry.source)!r}: cannot copy it: {exc.strerror}"
                ) from None
            target.chmod(0o444)
        for name in scan.names:
            if (host_dir / name).is_dir():
                _seal(host_dir / name)
        host_dir.chmod(0o555)
    except BaseException:
        _remove(host_dir)
        raise
    return InputFiles(
        names=tuple(scan.names),
        files=tuple((e.target, e.size) for e in scan.entries),
        host_dir=host_dir,
        jail_dir=f"{jail_root}/{key}",
    )


def _seal(folder: Path) -> None:
    for here, dirs, _ in os.walk(folder, topdown=False):
        for d in dirs:
            Path(here, d).chmod(0o555)
    folder.chmod(0o555)


def _remove(path: Path) -> None:
    """Remove a staged copy whose folders were made read-only (a non-root owner needs w)."""
    if not path.exists():
        return
    for here, dirs, _ in os.walk(path):
        os.chmod(here, 0o755)
        for d in dirs:
            os.chmod(os.path.join(here, d), 0o755)
    shutil.rmtree(path, ignore_errors=True)


def make_root() -> Path:
    """The folder one sandbox stages every input set under: traversable, not listable."""
    root = Path(tempfile.mkdtemp(prefix="mca-inputs-"))
    root.chmod(0o311)
    return root


def remove_root(root: Path) -> None:
    os.chmod(root, 0o755)
    for child in list(root.iterdir()):
        _remove(child)
    shutil.rmtree(root, ignore_errors=True)


def _preview(path: Path) -> str:
    """The first lines of a text file, indented, so a model sees its columns; '' for binary."""
    try:
        with open(path, "rb") as f:
            head = f.read(_PREVIEW_CHARS * 2)
        text = head.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    if "\x00" in text:
        return ""
    lines = text.splitlines()[:_PREVIEW_LINES]
    body = "\n".join(f"      {line[:200]}" for line in lines)[:_PREVIEW_CHARS]
    return f", first lines:\n{body}" if body.strip() else ", empty"


def _count(n: int) -> str:
    return "1 file" if n == 1 else f"{n:,} files"


def _size(n: int) -> str:
    if n < 1024:
        return f"{n:,} bytes"
    value = n / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
