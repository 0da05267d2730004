"""Domain objects that cross boundaries (process, agent, disk), as pydantic models."""

from __future__ import annotations

import uuid
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from .limits import Limits

if TYPE_CHECKING:  # resolved by Solution.model_rebuild() in verify/__init__.py (no cycle)
    from .optimize.report import OptimizationReport
    from .verify.report import VerificationReport

TIMEOUT_EXIT_STATUS = 124  # what timeout(1) and AutoGen's LocalCommandLineCodeExecutor report


class Artifact(BaseModel):
    """A file a job produced: something it wrote in its work dir, or an open matplotlib figure."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    name: str
    mime_type: str
    data: bytes = Field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


class ExecError(BaseModel):
    """Why a job did not finish normally.

    `type` is the exception class name for errors raised by the code (`ZeroDivisionError`), or
    one of the sandbox's own kinds: `ImportNotAllowed`, `Timeout`, `Killed`, `SyntaxError`,
    `Exited`, `InvalidInput`, `SandboxCrashed`, `SandboxClosed`, `ResultNotSerializable`.
    """

    model_config = ConfigDict(frozen=True)

    type: str
    message: str
    traceback: str = ""
    line: int | None = None


class ExecResult(BaseModel):
    """What one sandbox job did. `result` is the JSON value of a `result` variable the code set."""

    model_config = ConfigDict(frozen=True)

    exit_code: int
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    duration_ms: float = 0.0
    result: Any = None
    error: ExecError | None = None
    artifacts: list[Artifact] = Field(default_factory=list)
    truncated: bool = False

    @property
    def exit_status(self) -> int:
        """A shell-style status: 124 on timeout (as timeout(1)), 128+N if killed by signal N,
        1 when the code ran to its end but reported an error, else its own exit code."""
        if self.timed_out:
            return TIMEOUT_EXIT_STATUS
        if self.exit_code < 0:
            return 128 - self.exit_code
        if self.exit_code == 0 and self.error is not None:
            return 1
        return min(self.exit_code, 255)

    @property
    def ok(self) -> bool:
        """True when the code ran to its end without an error."""
        return self.exit_code == 0 and self.error is None and not self.timed_out

    def artifact(self, name: str) -> Artifact:
        """The artifact called `name`; KeyError listing the names there are otherwise."""
        for a in self.artifacts:
            if a.name == name:
                return a
        raise KeyError(f"no artifact named {name!r}; artifacts: {[a.name for a in self.artifacts]}")


class Verdict(str, Enum):
    """How far execution backs the selected candidate.

    verified: independent evidence agrees on it. disputed: it is the best pick, but the evidence
    is weak or conflicting (or it fails one of the task's examples that every candidate fails),
    so do not trust it blindly. failed: every candidate fails a task example or test that
    another candidate passes, or none could be run at all.
    """

    VERIFIED = "verified"
    DISPUTED = "disputed"
    FAILED = "failed"


class Task(BaseModel):
    """What to solve.

    A function task names its `entry_point`: candidates define that function, and the task's
    examples and tests call it. A computation task has no entry point: candidates set a `result`
    variable, and independent implementations are compared on that value.

    `examples` and `tests` are trusted: a candidate that fails one is out. Doctest lines
    (`>>> f(1)` and the expected value on the next line) and `assert` lines in the prompt count
    as examples too.

    `files` are the user's input files and folders: every job the task runs finds each in its
    work dir under its own name, read-only (a copy made when the run starts).
    """

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1)
    entry_point: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    examples: list[str] = Field(
        default_factory=list, description="assert statements, e.g. 'assert f(2) == 4'"
    )
    tests: str = Field("", description="trusted test code: asserts, test_* functions, check()")
    limits: Limits = Field(default_factory=lambda: Limits(timeout_s=10.0))
    files: list[Path] = Field(
        default_factory=list, description="input files and folders, read-only in every job"
    )
    id: str | None = None


class Candidate(BaseModel):
    """One independent implementation, with the tests and explanation its author wrote."""

    model_config = ConfigDict(extra="forbid")

    code: str
    tests: str = ""
    explanation: str = ""
    origin: str = Field("", description="who wrote it: agent, round, strategy")
    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:8])


class AgentUsage(BaseModel):
    """What one agent's model calls cost."""

    model_config = ConfigDict(frozen=True)

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    retries: int = 0
    cached_calls: int = 0


class Solution(BaseModel):
    """What `solve` returns. Read `verdict` before trusting `code`: only `verified` means that
    independent evidence agreed on it; `error` says why a run ended early."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    task: Task
    verdict: Verdict
    confidence: float = 0.0
    code: str | None = None
    explanation: str = ""
    tests: str = ""
    result: Any = None
    stdout: str = ""
    artifacts: list[Artifact] = Field(default_factory=list)
    usage: dict[str, AgentUsage] = Field(default_factory=dict)
    rounds: int = 0
    reasons: list[str] = Field(default_factory=list)
    judge: str | None = None
    error: str | None = None
    duration_ms: float = 0.0
    report: VerificationReport | None = Field(None, repr=False)
    optimization: OptimizationReport | None = Field(
        None, repr=False, description="the optimizer's report; `code` is its rewrite if accepted"
    )

    @property
    def verified(self) -> bool:
        return self.verdict is Verdict.VERIFIED

    @property
    def total_cost_usd(self) -> float:
        return sum(u.cost_usd for u in self.usage.values())

    def _repr_html_(self) -> str:
        """A compact card for Jupyter; the renderer is imported only when a notebook asks."""
        from .runlog.notebook import solution_card

        return solution_card(self)
