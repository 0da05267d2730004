"""The public sandbox: run untrusted Python with every isolation layer, sync or async."""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import os
import sys
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any

from .. import pyast
from ..domain import Artifact, ExecError, ExecResult
from ..errors import SandboxClosedError
from ..limits import Limits
from . import inputs as input_files
from . import launch
from .inputs import DEFAULT_MAX_INPUT_MB, InputFiles
from .policy import forbidden_import, not_allowed_message, resolve_allowlist
from .server_process import WATCHDOG_GRACE_S, ServerProcess
from .tiers import Tier, tier_for

DEFAULT_PRELOAD: tuple[str, ...] = ("numpy", "pandas", "matplotlib", "matplotlib.pyplot")


class PreloadWarning(UserWarning):
    """A library named in `preload` could not be imported inside the sandbox."""


class ProcessIsolationWarning(UserWarning):
    """The sandbox runs without namespaces because the user asked for it by name."""


class Sandbox:
    """A pool of warm, locked-down Python workers behind one bubblewrap boundary.

    Use it as a context manager (`with` or `async with`); `run` and `arun` may be called from
    several threads or tasks at once, and up to `pool_size` jobs run side by side.

    isolation="bwrap" (the default) refuses to start where bubblewrap or user namespaces are
    missing. isolation="process" drops the namespaces (jobs can see the host's process list and
    filesystem layout; Landlock, seccomp and rlimits still apply per job) and warns.

    `disk_mb` and `disk_files` bound each job's scratch space (its work dir, a tmpfs of its own)
    in bytes and in files, where the host lets the jail mount one per job (a root host; `info`
    says "per_job_disk"). Elsewhere all jobs share one tmpfs of `disk_mb`.

    `input_files(paths)` copies the user's files in once, read-only, for the jobs given them
    (`run(..., inputs=)` or a `with_inputs` view); `input_mb` bounds each such set.
    """

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        pool_size: int = 4,
        allowed_imports: Iterable[str] | None = None,
        allow_imports: Iterable[str] = (),
        preload: Sequence[str] = DEFAULT_PRELOAD,
        disk_mb: int = 512,
        disk_files: int = launch.DEFAULT_DISK_FILES,
        isolation: launch.Isolation = "bwrap",
        start_timeout_s: float = 60.0,
        input_mb: int = DEFAULT_MAX_INPUT_MB,
        _per_job: bool = True,
    ) -> None:
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, got {pool_size}")
        if disk_mb < 1 or disk_files < 16:
            raise ValueError(
                f"disk_mb must be at least 1 and disk_files at least 16, got disk_mb={disk_mb}, "
                f"disk_files={disk_files}"
            )
        if isolation not in ("bwrap", "process"):
            raise ValueError(f"isolation must be 'bwrap' or 'process', got {isolation!r}")
        self.limits = limits or Limits()
        self.allowlist = resolve_allowlist(allowed_imports, allow_imports)
        self.isolation: launch.Isolation = isolation
        self.pool_size = pool_size
        self._preload = list(preload)
        self._disk_mb = disk_mb
        self._disk_files = disk_files
        self._per_job = _per_job  # False: the shared-uid layout of non-root hosts (for tests)
        self._start_timeout_s = start_timeout_s
        self._input_mb = input_mb
        self._input_root: Path | None = None  # made at start; every staged set lives under it
        self._staged: list[InputFiles] = []
        self._staged_lock = threading.Lock()
        self._server: ServerProcess | None = None
        self._closed = False
        self._owner: Sandbox | None = None  # set on a `with_inputs` view: the one that runs jobs
        self._inputs: InputFiles | None = None  # a view's inputs, given to each of its jobs

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Start the jail and wait until its server is warm. Idempotent."""
        if self._owner is not None:
            self._owner.start()
            return self
        if self._closed:
            raise SandboxClosedError("this sandbox is closed; create a new one")
        if self._server is not None:
            return self
        if self.isolation == "process":
            warnings.warn(
                "Sandbox(isolation='process') runs jobs without namespaces: they can see the "
                "host's processes and file layout (reads are still limited by Landlock where "
                "the kernel has it)"
                + (
                    ", and this host process is root, so jobs run as uid 0 and "
                    "RLIMIT_NPROC does not bind them"
                    if os.geteuid() == 0
                    else ""
                )
                + ". Use the default isolation='bwrap' for untrusted code.",
                ProcessIsolationWarning,
                stacklevel=2,
            )
        if self.isolation == "bwrap":
            launch.find_bwrap()
        if self._input_root is None:
            self._input_root = input_files.make_root()
        server = ServerProcess(
            self._make_plan, pool_size=self.pool_size, start_timeout_s=self._start_timeout_s
        )
        try:
            server.start()
        except BaseException:
            server.close()
            raise
        self._server = server
        for name, why in dict(server.info.get("preload_failed") or {}).items():
            warnings.warn(
                f"the sandbox could not pre-import {name!r} ({why}); jobs that import it will "
                f"fail the same way. Install it into {sys.executable} or leave it out of "
                "preload=.",
                PreloadWarning,
                stacklevel=2,
            )
        return self

    def _make_plan(self) -> launch.LaunchPlan:
        return launch.plan(
            isolation=self.isolation,
            preload=self._preload,
            allowed=sorted(self.allowlist),
            disk_mb=self._disk_mb,
            disk_files=self._disk_files,
            pool_size=self.pool_size,
            per_job=self._per_job,
            input_root=str(self._input_root),
        )

    def close(self) -> None:
        """Stop the jail and remove every input set staged in it; a view closes nothing."""
        if self._owner is not None:
            return
        self._closed = True
        if self._server is not None:
            self._server.close()
            self._server = None
        with self._staged_lock:
            staged, self._staged = self._staged, []
        for each in staged:
            each.close()
        if self._input_root is not None:
            input_files.remove_root(self._input_root)
            self._input_root = None

    # -- input files ----------------------------------------------------------------------
    @property
    def inputs(self) -> InputFiles | None:
        """The input files this view gives every job (`with_inputs`); None for a sandbox."""
        return self._inputs

    @property
    def input_mb(self) -> int:
        """The most one set of input files may hold, in MB."""
        return (self._owner or self)._input_mb

    def input_files(self, paths: Iterable[str | os.PathLike[str]]) -> InputFiles:
        """Copy files and folders in for jobs to read, each under its own name in the job's
        work dir (`sales.csv`, `logs/`), read-only; starts the sandbox if needed.

        Checked first (InputFileError: missing, unreadable, a special file, a folder's link
        leading out of it, two inputs of one name, more than `input_mb` in all). Close the
        result (or use it in `with`) to remove the copy; closing the sandbox removes it too.
        """
        base = self._owner or self
        scan = input_files.scan_inputs(paths, max_mb=base._input_mb)
        base.start()
        assert base._input_root is not None
        staged = input_files.stage(scan, base._input_root, base._jail_input_root())
        with base._staged_lock:  # a long-lived sandbox keeps only the sets still open
            base._staged = [s for s in base._staged if not s.closed] + [staged]
        return staged

    def with_inputs(self, inputs: InputFiles | None) -> Sandbox:
        """This sandbox as one whose every job is given `inputs` (None: this sandbox itself).

        The view shares the jail and its workers; closing it closes nothing, so a pipeline
        can hand it to code that expects a Sandbox."""
        if inputs is None:
            return self
        view = copy.copy(self)
        view._owner = self._owner or self
        view._inputs = inputs
        return view

    def _jail_input_root(self) -> str:
        assert self._input_root is not None
        return launch.input_mount(self.isolation, str(self._input_root))

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Sandbox:
        # start() blocks while the server warms up; keep the event loop free meanwhile.
        return await asyncio.get_running_loop().run_in_executor(None, self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    @property
    def info(self) -> dict[str, Any]:
        """What the running server reported: Python version, preloads, kernel layers."""
        server = (self._owner or self)._server
        return dict(server.info) if server else {}

    @property
    def restarts(self) -> int:
        server = (self._owner or self)._server
        return server.restarts if server else 0

    # -- jobs -----------------------------------------------------------------------------
    def run(
        self,
        code: str,
        *,
        files: Mapping[str, bytes | str] | None = None,
        limits: Limits | None = None,
        imports: Iterable[str] | None = None,
        inputs: InputFiles | None = None,
    ) -> ExecResult:
        """Run `code` in a fresh job and wait for its result.

        `files` (name -> content) are written into the job's work dir; `inputs` (from
        `input_files`) are linked there read-only.

        `imports`: the modules that code the job loads at run time imports (source it execs or
        reads from `files`). A job whose imports include none of the preloads goes to a lighter
        worker that never loaded them; without `imports`, one that execs code never does.
        """
        limits = limits or self.limits
        refused, tier = self._admit(code, imports)
        if refused is not None:
            return refused
        future = self._submit(code, files, limits, tier, inputs)
        return _to_result(future.result())

    async def arun(
        self,
        code: str,
        *,
        files: Mapping[str, bytes | str] | None = None,
        limits: Limits | None = None,
        imports: Iterable[str] | None = None,
        inputs: InputFiles | None = None,
    ) -> ExecResult:
        """Like `run`, awaiting instead of blocking; cancelling the await kills the job."""
        limits = limits or self.limits
        refused, tier = self._admit(code, imports)
        if refused is not None:
            return refused
        future = self._submit(code, files, limits, tier, inputs)
        try:
            raw = await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            server = (self._owner or self)._server
            if server is not None:
                server.cancel(future)
            raise
        return _to_result(raw)

    def _submit(
        self,
        code: str,
        files: Mapping[str, bytes | str] | None,
        limits: Limits,
        tier: Tier,
        inputs: InputFiles | None,
    ) -> Future[dict[str, Any]]:
        base = self._owner or self
        if base._server is None:
            if base._closed:
                raise SandboxClosedError("this sandbox is closed; create a new one")
            base.start()
        assert base._server is not None
        given = inputs if inputs is not None else self._inputs
        payload = {
            "op": "run",
            "code": code,
            "files": {name: _b64(data) for name, data in (files or {}).items()},
            "inputs": given.links() if given is not None else {},
            "limits": {**limits.model_dump(), "cpu_s": limits.effective_cpu_s},
            "tier": tier,
        }
        return base._server.submit(payload, limits.timeout_s + WATCHDOG_GRACE_S)

    def _admit(self, code: str, imports: Iterable[str] | None) -> tuple[ExecResult | None, Tier]:
        """Reject code that cannot run here before it costs a job (syntax, forbidden imports);
        else pick the worker tier it needs."""
        try:
            tree = pyast.parse(code, "<code>")
        except SyntaxError as exc:
            msg = f"{exc.msg} (line {exc.lineno})"
            refusal = ExecResult(
                exit_code=1,
                stderr=f"SyntaxError: {msg}\n",
                error=ExecError(type="SyntaxError", message=msg, line=exc.lineno),
            )
            return refusal, "full"
        hit = forbidden_import(tree, self.allowlist)
        if hit is None:
            return None, tier_for(tree, self._preload, imports)
        module, line = hit
        msg = not_allowed_message(module, self.allowlist)
        refusal = ExecResult(
            exit_code=1,
            stderr=f"ImportNotAllowed: {msg}\n",
            error=ExecError(type="ImportNotAllowed", message=msg, line=line),
        )
        return refusal, "full"


def _b64(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return base64.b64encode(raw).decode("ascii")


def _to_result(raw: dict[str, Any]) -> ExecResult:
    try:
        return _build_result(raw)
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        # The server checks reports, so this means a bug or a forged report that got through:
        # keep what can be kept and say so, never raise for something the job did.
        return ExecResult(
            exit_code=-1,
            stdout=str(raw.get("stdout", "")),
            stderr=str(raw.get("stderr", "")),
            error=ExecError(type="MalformedReport", message=f"the job's report was invalid: {exc}"),
        )


def _build_result(raw: dict[str, Any]) -> ExecResult:
    artifacts = [
        Artifact(
            name=a["name"],
            mime_type=a["mime_type"],
            data=base64.b64decode(a["data"], validate=True),
        )
        for a in raw.get("artifacts", [])
    ]
    error = raw.get("error")
    return ExecResult(
        exit_code=int(raw.get("exit_code", -1)),
        stdout=raw.get("stdout", ""),
        stderr=raw.get("stderr", ""),
        timed_out=bool(raw.get("timed_out", False)),
        duration_ms=float(raw.get("duration_ms", 0.0)),
        result=raw.get("result"),
        error=ExecError.model_validate(error) if error else None,
        artifacts=artifacts,
        truncated=bool(raw.get("truncated", False)),
    )
