"""AutoGen's `CodeExecutor` interface on top of our sandbox, so any AgentChat user can drop it in.

AutoGen's own `LocalCommandLineCodeExecutor` isolates nothing; this adapter keeps its observable
behaviour (blocks run in order, the first failure stops the rest, exit code 124 on timeout) while
every block runs as a job in a hardened `Sandbox`. No work dir is involved: files the code writes
come back as data in `SandboxCodeResult.results[i].artifacts`.

`dump_component()` is not supported (AutoGen raises `NotImplementedError`): our configuration
lives in our own YAML schema, not in AutoGen's component dumps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from autogen_core import CancellationToken
from autogen_core.code_executor import CodeBlock, CodeExecutor, CodeResult

from ..domain import Artifact, ExecResult
from ..limits import Limits
from . import launch
from .sandbox import DEFAULT_PRELOAD, Sandbox

PYTHON_LANGUAGES: frozenset[str] = frozenset({"python", "py", "python3", ""})


@dataclass
class SandboxCodeResult(CodeResult):
    """A `CodeResult` that keeps each block's full `ExecResult` (result value, artifacts, error)."""

    results: list[ExecResult] = field(default_factory=list)

    @property
    def artifacts(self) -> list[Artifact]:
        """Every artifact the executed blocks produced, in order."""
        return [a for r in self.results for a in r.artifacts]


class SandboxCodeExecutor(CodeExecutor):
    """Runs Python code blocks in a `Sandbox`.

    Pass a running or not yet started `sandbox` to share it (it is then not closed by `stop`), or
    leave it out and give the settings of a sandbox this executor creates and owns (one worker by
    default: blocks run one after another). `limits` are the per-block limits; with a shared
    sandbox they default to the sandbox's own.

    The sandbox is started on first use if `start()` was not awaited; prefer `async with`.
    """

    def __init__(
        self,
        sandbox: Sandbox | None = None,
        *,
        limits: Limits | None = None,
        pool_size: int = 1,
        allowed_imports: Iterable[str] | None = None,
        allow_imports: Iterable[str] = (),
        preload: Sequence[str] = DEFAULT_PRELOAD,
        disk_mb: int = 512,
        isolation: launch.Isolation = "bwrap",
    ) -> None:
        self._owned = sandbox is None
        self._limits = limits
        self._new_sandbox = partial(
            Sandbox,
            limits,
            pool_size=pool_size,
            allowed_imports=None if allowed_imports is None else list(allowed_imports),
            allow_imports=list(allow_imports),
            preload=list(preload),
            disk_mb=disk_mb,
            isolation=isolation,
        )
        # An owned sandbox is built now so that bad settings raise here, not at first use.
        self._sandbox: Sandbox = sandbox if sandbox is not None else self._new_sandbox()

    @property
    def sandbox(self) -> Sandbox:
        return self._sandbox

    # -- CodeExecutor -----------------------------------------------------------------------
    async def start(self) -> None:
        """Start the sandbox (about a second) without blocking the event loop."""
        await asyncio.get_running_loop().run_in_executor(None, self._sandbox.start)

    async def stop(self) -> None:
        """Close the sandbox if this executor owns it; a shared one is left to its owner."""
        if self._owned:
            await asyncio.get_running_loop().run_in_executor(None, self._sandbox.close)

    async def restart(self) -> None:
        """Replace an owned sandbox with a fresh one; a shared one is left to its owner."""
        if not self._owned:
            return
        await self.stop()
        self._sandbox = self._new_sandbox()
        await self.start()

    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> SandboxCodeResult:
        """Run the blocks in order as separate jobs, stopping at the first failure.

        Cancelling `cancellation_token` kills the running job and raises `CancelledError`, as
        the `CodeExecutor` interface documents.
        """
        await self.start()
        outputs: list[str] = []
        results: list[ExecResult] = []
        for block in code_blocks:
            language = block.language.strip().lower()
            if language not in PYTHON_LANGUAGES:
                outputs.append(unsupported_language_message(block.language))
                return SandboxCodeResult(exit_code=1, output="".join(outputs), results=results)
            job = asyncio.ensure_future(self._sandbox.arun(block.code, limits=self._limits))
            cancellation_token.link_future(job)
            result = await job
            results.append(result)
            outputs.append(format_output(result))
            if not result.ok:
                return SandboxCodeResult(
                    exit_code=result.exit_status, output="".join(outputs), results=results
                )
        return SandboxCodeResult(exit_code=0, output="".join(outputs), results=results)


def unsupported_language_message(language: str) -> str:
    return (
        f"unsupported language {language!r}: this executor runs Python only "
        f"(code blocks marked python, py, python3, or unmarked)\n"
    )


def format_output(result: ExecResult) -> str:
    """stdout, stderr, then one summary line per problem: what a model needs to react to."""
    parts = [_line_end(result.stdout), _line_end(result.stderr)]
    error = result.error
    if error is not None:
        summary = " ".join(f"{error.type}: {error.message}".split())
        if summary not in result.stderr:
            parts.append(summary + "\n")
    if result.truncated:
        parts.append("[output truncated: the job wrote more than the sandbox keeps]\n")
    if result.artifacts:
        names = ", ".join(f"{a.name} ({a.mime_type}, {a.size} bytes)" for a in result.artifacts)
        parts.append(f"artifacts: {names}\n")
    return "".join(parts)


def _line_end(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"
