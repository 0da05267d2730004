"""One job, inside a worker forked ahead of time: lock down, wait for the job, run, report.

Order matters. Descriptors are rearranged first (so nothing of the server's leaks into the job),
then the worker takes the job's own uid (giving up every capability the server holds), then
Landlock and seccomp (irreversible, applied while the worker is still idle), then the job
arrives on fd 0, rlimits are set, and only then is user code compiled. The report goes to fd 3
as one JSON document; stdout and stderr are plain pipes the server reads.

The import guard installed here is advisory, like the policy it enforces (policy.py): Python
code in one process cannot keep other Python code in that process from reaching what is already
loaded (numpy loads ctypes; the object graph leads to the import machinery). It gives fast,
readable refusals for ordinary code; the kernel layers hold against everything else.
"""

from __future__ import annotations

import base64
import builtins
import errno
import fcntl
import hashlib
import io
import json
import linecache
import mimetypes
import os
import resource
import signal
import sys
import tempfile
import time
import traceback
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from . import landlock, seccomp

CODE_FILENAME = "<code>"
CONTROL_FD = 0
RESULT_FD = 3
MIB = 1024 * 1024
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
# Frames of this package are the harness, never the user's: tracebacks leave them out.
JAIL_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
# How long a worker waits after sending its report before it exits. Tearing down a forked copy
# of the warm interpreter costs milliseconds of CPU; done at once, it competes with the result's
# trip to the host for the same cores. The job is answered and its pipes are closed by then.
EXIT_DELAY_S = 0.003


@dataclass(frozen=True)
class JobEnv:
    """What the server prepared once and every job reuses."""

    read_paths: Sequence[str]
    allowlist: frozenset[str] | None
    seccomp_program: bytes | None
    prctl: Callable[[int, int], int] | None
    disk_mb: int = 0
    disk_files: int = 0
    per_job_disk: bool = False


@dataclass(frozen=True)
class Slot:
    """Where and as whom one worker runs: its own work dir (a tmpfs of its own when the server
    may mount) and its own uid (None: the uid every job shares)."""

    workdir: str
    uid: int | None


def worker_main(
    env: JobEnv, slot: Slot, out_w: int, err_w: int, res_w: int, ctl_r: int
) -> NoReturn:
    """Lock down, wait for one job on the control pipe, run it, report, exit."""
    status = 70  # EX_SOFTWARE: only seen if setting up or reporting itself fails
    try:
        status = _work(env, slot, out_w, err_w, res_w, ctl_r)
    except BaseException:
        # A harness failure, not the job's: say so on the job's stderr (the host shows it).
        try:
            os.write(2, f"sandbox worker failed:\n{traceback.format_exc()}".encode())
        except OSError:
            pass
    finally:
        os._exit(status)


def _work(env: JobEnv, slot: Slot, out_w: int, err_w: int, res_w: int, ctl_r: int) -> int:
    # Own session and process group: the server kills the whole group on timeout, and the
    # session is the job's scheduler autogroup, so CPU is shared per job, not per process
    # (seccomp keeps the job from starting another session).
    os.setsid()
    # Move the four pipes out of the way first so no dup2 below can clobber another one.
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 64) for fd in (ctl_r, out_w, err_w, res_w)]
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    os.closerange(RESULT_FD + 1, 1 << 16)  # the zygote's socket and every other pipe
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if slot.uid is not None:
        _become(slot.uid)
    workdir = slot.workdir
    os.chdir(workdir)
    # The work dir is the only writable place: point temp files and caches there.
    os.environ["TMPDIR"] = os.environ["HOME"] = workdir
    tempfile.tempdir = None
    layers = _lock_down(env, workdir)
    sys.stdout = _text_stream(1)
    sys.stderr = _text_stream(2)
    sys.stdin = io.TextIOWrapper(io.BytesIO(b""))
    sys.argv = ["main.py"]
    vsize = current_vsize()
    # Everything that does not depend on the job is done while idle, off the job's clock. The
    # import guard only judges imports made by user code, so the harness is unaffected by it.
    if env.allowlist is not None:
        _guard_imports(env.allowlist)
    devnull = os.open(os.devnull, os.O_RDONLY)  # replaces the control pipe once it is read
    _prefault()

    spec = _read_spec(CONTROL_FD)
    if spec is None:  # the server went away before giving us a job
        return 0
    os.dup2(devnull, CONTROL_FD)
    os.close(devnull)
    limits: Mapping[str, Any] = spec["limits"]
    report: dict[str, Any] = {"layers": layers, "exit_code": 0}
    try:
        inputs = _write_inputs(spec.get("files") or {})
        _link_inputs(spec.get("inputs") or {})
    except (OSError, ValueError) as exc:
        report.update(exit_code=1, error={"type": "InvalidInput", "message": str(exc)})
        _write_report(report)
        return 1
    _set_limits(limits, vsize)
    try:
        _execute(spec["code"], report, _Quotas(env, limits))
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
    _collect_artifacts(report, inputs, int(limits["artifact_bytes"]))
    # EOF on every pipe tells the server the job is over before we exit. Output first, report
    # last: the server then usually sees all three ends in one wake-up instead of three.
    for fd in (1, 2):
        try:
            os.close(fd)
        except OSError:
            pass
    _write_report(report)
    time.sleep(EXIT_DELAY_S)
    return int(report["exit_code"])


def _read_spec(fd: int) -> dict[str, Any] | None:
    header = _read_exact(fd, 4)
    if header is None:
        return None
    body = _read_exact(fd, int.from_bytes(header, "big"))
    if body is None:
        return None
    spec: dict[str, Any] = json.loads(body)
    return spec


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_inputs(files: Mapping[str, str]) -> dict[str, str]:
    digests = {}
    for name, b64 in files.items():
        rel = os.path.normpath(name)
        if rel.startswith(("/", "..")) or rel == ".":
            raise ValueError(f"input file name {name!r} must be relative to the work dir")
        data = base64.b64decode(b64)
        parent = os.path.dirname(rel)
        if parent:
            os.makedirs(parent, exist_ok=True)
        with open(rel, "wb") as f:
            f.write(data)
        digests[rel] = hashlib.sha256(data).hexdigest()
    return digests


def _link_inputs(links: Mapping[str, str]) -> None:
    """The user's input files, each linked into the work dir under its name (read-only: the
    staged copy is a read-only mount; a link is never collected as an artifact)."""
    for name, target in links.items():
        if "/" in name or name in ("", ".", "..") or not target.startswith("/"):
            raise ValueError(f"input {name!r} -> {target!r} must be a plain name and a path")
        os.symlink(target, name)


def _become(uid: int) -> None:
    """Switch to the job's own uid for good; the kernel drops every capability with it."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    with open("/proc/self/status", "rb") as f:
        status = f.read()
    for field_name in (b"CapPrm:", b"CapEff:", b"CapAmb:"):
        value = status.split(field_name, 1)[1].split(b"\n", 1)[0].strip()
        if int(value, 16) != 0:
            raise OSError(f"job still holds capabilities after switching to uid {uid}: {value!r}")


def _lock_down(env: JobEnv, workdir: str) -> dict[str, Any]:
    if env.prctl is not None:
        env.prctl(PR_SET_DUMPABLE, 0)  # other jobs cannot open our /proc files
        # Processes the job orphans stay under the worker while the job runs (not under the
        # zygote, which kills strays at once): a job's processes live exactly as long as it.
        env.prctl(PR_SET_CHILD_SUBREAPER, 1)
    abi = landlock.restrict(
        read_paths=[*env.read_paths, workdir], write_paths=[workdir, "/dev/null"]
    )
    if env.seccomp_program is not None:
        seccomp.install(env.seccomp_program)
    return {"landlock_abi": abi, "seccomp": env.seccomp_program is not None, "rlimits": True}


def _prefault() -> None:
    """Walk the job's code paths once while idle, so copy-on-write faults are paid before the job.

    Right after a fork every page the job touches is faulted in and copied; on small VMs that is
    most of a trivial job's cost. Nothing here has effects the job could see.
    """
    report: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__builtins__": builtins}
    exec(compile("result = [i * 2 for i in range(8)]", CODE_FILENAME, "exec"), namespace)
    _store_result(report, namespace["result"])
    json.dumps(report, separators=(",", ":"), default=repr)
    json.loads('{"code": "", "limits": {"a": 1}, "files": {}, "inputs": {}}')
    linecache.cache.pop(CODE_FILENAME, None)
    _collect_artifacts({}, {}, 0)  # the work dir is still empty: finds nothing, sends nothing


def _set_limits(limits: Mapping[str, Any], vsize: int) -> None:
    cpu = max(1, int(float(limits["cpu_s"]) + 0.999))
    _setrlimit(resource.RLIMIT_CPU, cpu, cpu + 1)
    base = max(vsize, int(limits.get("vsize_floor", 0)))
    _setrlimit(resource.RLIMIT_AS, base + int(limits["memory_mb"]) * MIB)
    # RLIMIT_NPROC counts every process of the sandbox's uid: the server, the zygote and the
    # other workers too, so the job's own allowance comes on top of that base.
    nproc = int(limits["max_processes"]) + int(limits.get("nproc_base", 0))
    _setrlimit(resource.RLIMIT_NPROC, nproc)
    _setrlimit(resource.RLIMIT_FSIZE, int(limits["max_file_mb"]) * MIB)
    _setrlimit(resource.RLIMIT_NOFILE, int(limits["max_open_files"]))
    _setrlimit(resource.RLIMIT_CORE, 0)


def _setrlimit(which: int, soft: int, hard: int | None = None) -> None:
    resource.setrlimit(which, (soft, soft if hard is None else hard))


def current_vsize() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def _text_stream(fd: int) -> io.TextIOWrapper:
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(raw, encoding="utf-8", errors="backslashreplace", write_through=True)


@dataclass(frozen=True)
class _Quotas:
    """The job's bounds, to name the one an exception ran into."""

    env: JobEnv
    limits: Mapping[str, Any]

    def note(self, exc: BaseException) -> str | None:
        """Which quota `exc` means, in words, or None when it is not about a quota."""
        limits = self.limits
        if isinstance(exc, MemoryError):
            return f"the job's memory limit of {limits['memory_mb']} MB is used up"
        thread_refused = isinstance(exc, RuntimeError) and "new thread" in str(exc)
        if (thread_refused or _errno(exc) == errno.EAGAIN) and _at_process_limit():
            return f"the job's process limit of {limits['max_processes']} is reached"
        if not isinstance(exc, OSError):
            return None
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return self._disk_note()
        if exc.errno == errno.EFBIG:
            return f"the job's file size limit of {limits['max_file_mb']} MB is reached"
        if exc.errno == errno.EMFILE:
            return f"the job's open file limit of {limits['max_open_files']} is reached"
        return None

    def _disk_note(self) -> str:
        env = self.env
        if not env.per_job_disk:
            return f"the sandbox's shared scratch space of {env.disk_mb} MB is full"
        try:
            st = os.statvfs(".")
            files_out = st.f_ffree == 0
        except OSError:
            files_out = False
        if files_out:
            return f"the job's disk quota of {env.disk_files} files is used up"
        return f"the job's disk quota of {env.disk_mb} MB is used up"


def _errno(exc: BaseException) -> int | None:
    return exc.errno if isinstance(exc, OSError) else None


def _at_process_limit() -> bool:
    """Whether this uid's tasks (processes and threads, as RLIMIT_NPROC counts them) are at the
    limit: EAGAIN alone could also be a non-blocking read."""
    limit = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    if limit == resource.RLIM_INFINITY:
        return False
    uid, tasks = os.getuid(), 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as f:
                status = f.read()
        except OSError:
            continue
        fields = dict(line.split(b":", 1) for line in status.splitlines() if b":" in line)
        if int(fields.get(b"Uid", b"-1 0").split()[0]) == uid:
            tasks += int(fields.get(b"Threads", b"1").strip())
    return tasks >= limit - 1


def _execute(code: str, report: dict[str, Any], quotas: _Quotas) -> None:
    linecache.cache[CODE_FILENAME] = (len(code), None, code.splitlines(True), CODE_FILENAME)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    try:
        compiled = compile(code, CODE_FILENAME, "exec")
        exec(compiled, namespace)
    except SystemExit as exc:
        report["exit_code"] = _exit_status(exc.code)
    except BaseException as exc:
        report["exit_code"] = 1
        _hide_harness(exc)
        note = quotas.note(exc)
        report["error"] = _describe(exc, note)
        traceback.print_exception(type(exc), exc, exc.__traceback__)
        if note:
            print(f"({note})", file=sys.stderr)
    if "result" in namespace:
        _store_result(report, namespace["result"])


def _guard_imports(allowlist: frozenset[str]) -> None:
    """Refuse imports of unlisted modules made by the user's own code (not by libraries).

    User code is the job's module (`__name__ == "__main__"`) or code compiled from a string
    (`exec`, `eval`: a filename like "<string>"); library files have real paths.
    """
    real_import = builtins.__import__

    def guarded(
        name: str,
        globals: Mapping[str, Any] | None = None,
        locals: Mapping[str, Any] | None = None,
        fromlist: Sequence[str] = (),
        level: int = 0,
    ) -> Any:
        caller = sys._getframe(1).f_code.co_filename
        # "<frozen os>" is the standard library (frozen modules), not code from a string.
        from_string = caller.startswith("<") and not caller.startswith("<frozen ")
        from_user = from_string or (globals is not None and globals.get("__name__") == "__main__")
        if level == 0 and from_user:
            top = name.split(".", 1)[0]
            if top not in allowlist:
                raise ImportNotAllowed(
                    f"module {top!r} is not allowed in this sandbox; allowed: "
                    f"{', '.join(sorted(allowlist))}"
                )
        return real_import(name, globals, locals, fromlist, level)

    builtins.__import__ = guarded  # type: ignore[assignment]


class ImportNotAllowed(ImportError):
    """Raised in the job when user code imports a module outside the allowlist."""


ImportNotAllowed.__module__ = "builtins"  # tracebacks say "ImportNotAllowed", not "jail.job..."


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _user_tb(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The traceback with the user's frames only: code compiled from text (`<code>`, and the
    `<...>` names a harness gives the code it runs) and modules the job wrote to its work dir.
    The harness's own frames, wherever they are (before the user's code: the runner; after it:
    the import guard), and the stdlib's and installed libraries' frames go: they name host
    paths and say nothing the user's line and the exception do not."""
    kept: list[types.TracebackType] = []
    workdir = os.getcwd() + os.sep
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.startswith("<") or (name.startswith(workdir) and not name.startswith(JAIL_DIR)):
            kept.append(tb)
        tb = tb.tb_next
    out: types.TracebackType | None = None
    for t in reversed(kept):
        out = types.TracebackType(out, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return out


def _hide_harness(exc: BaseException) -> None:
    """Trim the harness from `exc` and from every exception chained to or grouped in it."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        e.__traceback__ = _user_tb(e.__traceback__)
        todo += [e.__cause__, e.__context__, *getattr(e, "exceptions", ())]


def _describe(exc: BaseException, note: str | None = None) -> dict[str, Any]:
    tb = exc.__traceback__
    line = None
    walk = tb
    while walk is not None:
        if walk.tb_frame.f_code.co_filename == CODE_FILENAME:
            line = walk.tb_lineno
        walk = walk.tb_next
    if isinstance(exc, SyntaxError) and exc.filename == CODE_FILENAME:
        line = exc.lineno
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    message = str(exc)
    if note:
        message = f"{message} ({note})" if message else note
        text += f"({note})\n"
    return {
        "type": "ImportNotAllowed" if isinstance(exc, ImportNotAllowed) else type(exc).__name__,
        "message": message,
        "traceback": text[-20_000:],
        "line": line,
    }


def _jsonable(value: Any) -> Any:
    """numpy scalars and arrays, sets and tuples become plain JSON; anything else is refused."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _store_result(report: dict[str, Any], value: Any) -> None:
    try:
        json.dumps(value, default=_jsonable)
        report["result"] = json.loads(json.dumps(value, default=_jsonable))
    except (TypeError, ValueError, RecursionError) as exc:
        text = repr(value)
        report.setdefault(
            "error",
            {
                "type": "ResultNotSerializable",
                "message": f"`result` is a {type(value).__name__}, which is not JSON: {exc}; "
                f"repr: {text[:500]}",
                "traceback": "",
                "line": None,
            },
        )


def _collect_artifacts(report: dict[str, Any], inputs: Mapping[str, str], budget: int) -> None:
    artifacts: list[dict[str, Any]] = []
    dropped: list[str] = []

    def add(name: str, data: bytes, mime: str) -> None:
        nonlocal budget
        if len(data) > budget:
            dropped.append(name)
            return
        budget -= len(data)
        artifacts.append({"name": name, "mime_type": mime, "data": base64.b64encode(data).decode()})

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        try:
            for num in plt.get_fignums():
                buf = io.BytesIO()
                plt.figure(num).savefig(buf, format="png")
                add(f"figure_{num}.png", buf.getvalue(), "image/png")
            plt.close("all")
        except Exception as exc:  # a broken figure must not hide the job's other results
            dropped.append(f"figures ({type(exc).__name__}: {exc})")
    for root, dirs, files in os.walk(".", followlinks=False):
        dirs.sort()
        for fname in sorted(files):
            path = os.path.join(root, fname)
            rel = os.path.relpath(path, ".")
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            try:
                with open(path, "rb") as f:
                    data = f.read(budget + 1)
            except OSError:
                continue
            if inputs.get(rel) == _digest(data):
                continue  # an input file the code did not change
            add(rel, data, mimetypes.guess_type(rel)[0] or "application/octet-stream")
    report["artifacts"] = artifacts
    if dropped:
        report["artifacts_dropped"] = dropped


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_report(report: dict[str, Any]) -> None:
    data = json.dumps(report, separators=(",", ":"), default=repr).encode("utf-8")
    view = memoryview(data)
    while view:
        written = os.write(RESULT_FD, view)
        view = view[written:]
    os.close(RESULT_FD)
