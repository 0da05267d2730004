"""Run one program in the sandbox against test cases and inputs, in a single job.

One job per candidate keeps the cost at a few milliseconds of sandbox overhead however many
cells the candidate fills; the harness (harness.py) streams an outcome per cell, written by a
process the candidate's code cannot reach, so a hang or a crash costs only the cells it
touches, and the candidate can answer wrongly but cannot forge a "passed".
"""

from __future__ import annotations

import json
import marshal
import secrets
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..domain import ExecError, ExecResult
from ..sandbox import Sandbox
from ..sandbox.tiers import source_imports
from . import codec
from .outputs import written_files
from .testcases import TestGroup

CallKind = Literal["value", "raised", "timeout", "skipped"]
TestKind = Literal["pass", "fail", "error", "timeout", "skipped"]

# Margin on top of the harness's own budget before the sandbox's wall clock kills the job:
# loading the harness and the candidate, and writing the report.
JOB_SLACK_S = 2.0


class CallOutcome(BaseModel):
    """What one call of the entry point did. `value` is the decoded return value;
    `args_after` the arguments after the call, set only when the call changed them."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    kind: CallKind
    value: Any = None
    error: str = ""
    args_after: Any = None

    @property
    def mutated(self) -> bool:
        return self.args_after is not None


class TestOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: TestKind
    actual: str | None = None
    expected: str | None = None
    error: ExecError | None = None
    calls: list[str] = Field(default_factory=list, description="a failing test's calls")
    in_process: bool = Field(
        False, description="run beside the candidate (it needed live objects): forgeable"
    )

    @property
    def passed(self) -> bool:
        return self.kind == "pass"


class ProgramRun(BaseModel):
    """Everything one job learned about one program."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    load_error: ExecError | None = None
    output: str = Field("", description="what the code printed while loading (capped)")
    result: CallOutcome | None = None  # the `result` variable, for computation tasks
    files: dict[str, str] | None = None  # what a computation task's code wrote (outputs.py)
    outputs: list[CallOutcome] = Field(default_factory=list)
    tests: dict[str, TestOutcome] = Field(default_factory=dict)
    duration_ms: float = 0.0
    job_error: ExecError | None = None  # the job itself died (timeout, crash) partway
    gated: bool = False  # inputs not run: it failed a gating test

    @property
    def loaded(self) -> bool:
        return self.load_error is None


def same_outcome(
    a: CallOutcome,
    b: CallOutcome,
    *,
    atol: float = 0.0,
    rtol: float = 0.0,
    exact: bool = True,
    ordered: bool = False,
) -> bool:
    """Same behaviour: the same exception type, or equivalent values and arguments left alike.

    `exact` compares with codec.equivalent (types exact, floats within tolerance only against
    floats; dict order counts when `ordered`); `exact=False` with Python's `==`, as a test
    would. A call that changed its arguments differs from one that did not. A timeout or a
    skipped call says nothing about behaviour, so it matches nothing.
    """
    if a.kind != b.kind or a.kind in ("timeout", "skipped"):
        return False
    if a.kind == "raised":
        return a.error.split(":", 1)[0] == b.error.split(":", 1)[0]

    def same(x: Any, y: Any) -> bool:
        if exact:
            return codec.equivalent(x, y, atol=atol, rtol=rtol, ordered=ordered)
        return codec.same_value(x, y, atol=atol, rtol=rtol)

    if a.mutated != b.mutated or (a.mutated and not same(a.args_after, b.args_after)):
        return False
    return same(a.value, b.value)


# The job's own code stays this small: compiling the harness (about 450 lines) costs 10-30 ms,
# several times the job itself, so the host compiles it once and ships the code object. The
# jail runs the same interpreter binary, so marshal's version-specific format is safe to use,
# and marshal is always loaded (the import system needs it), so no allowlist entry is needed.
BOOTSTRAP = (
    "import sys\n"
    "with open('.mca-harness.bin', 'rb') as f:\n"
    "    exec(sys.modules['marshal'].loads(f.read()))\n"
)
HARNESS_MODULES = frozenset(
    {"base64", "dataclasses", "hashlib", "json", "math", "os", "re", "signal", "sys", "time",
     "traceback", "typing"}
)  # fmt: skip


@cache
def harness_source() -> str:
    here = Path(__file__).parent
    codec_src = (here / "codec.py").read_text(encoding="utf-8")
    harness_src = (here / "harness.py").read_text(encoding="utf-8")
    return f"{codec_src}\n\n{harness_src}\n\nharness_main()\n"


@cache
def harness_code() -> bytes:
    return marshal.dumps(compile(harness_source(), "<mca-harness>", "exec"))


def check_sandbox(sandbox: Sandbox) -> None:
    """Refuse a sandbox whose import allowlist would stop the harness itself."""
    missing = HARNESS_MODULES - sandbox.allowlist
    if missing:
        raise ValueError(
            "verification runs a small harness in the sandbox that needs these modules: "
            f"{', '.join(sorted(missing))}; add them with Sandbox(allow_imports=[...])"
        )


async def run_program(
    sandbox: Sandbox,
    code: str,
    entry_point: str | None,
    *,
    tests: Sequence[TestGroup] = (),
    inputs: Sequence[Sequence[Any]] = (),
    call_timeout_s: float = 1.0,
    budget_s: float | None = None,
    max_value_chars: int = 4096,
    gate: Sequence[str] = (),
    adaptive_timeout: bool = False,
    stop_at_timeout: bool = True,
) -> ProgramRun:
    """Load `code`, run every test case and call `entry_point(*args)` for every input.

    `budget_s` bounds the whole job (default: enough for every cell to hit its timeout, capped
    at a minute); cells that do not fit come back as `skipped`. After a call times out, the
    remaining inputs are skipped: the code hangs, and waiting proves nothing new. When a test
    case in `gate` (ids) does not pass, the inputs are not run at all (they come back skipped,
    with `ProgramRun.gated` set): the candidate is out, and its behaviour would decide nothing.
    `adaptive_timeout` gives up on a call far slower than every (smaller) input before it,
    sooner than `call_timeout_s`: for verification, where a timeout decides nothing anyway.
    `stop_at_timeout=False` goes on after a hang instead (judging a reference on every input).
    """
    groups = [g for g in tests if g.error is None]
    cells = len(inputs) + sum(len(g.cases) for g in groups)
    budget = budget_s if budget_s is not None else min(60.0, 2.0 + call_timeout_s * (cells + 1))
    nonce = "\x1e" + secrets.token_hex(8) + ":"
    payload = {
        "nonce": nonce,
        "code": code,
        "entry": entry_point,
        "groups": [
            {
                "setup": g.setup,
                "source": g.source,
                "tests": [
                    c.model_dump(include={"id", "src", "actual", "expected"}) for c in g.cases
                ],
            }
            for g in groups
        ],
        "inputs": [codec.encode(list(args)) for args in inputs],
        "call_timeout": call_timeout_s,
        "load_timeout": max(call_timeout_s, 5.0),
        "budget": budget,
        "max_value_chars": max_value_chars,
        "gate": list(gate),
        "adaptive": adaptive_timeout,
        "stop_at_timeout": stop_at_timeout,
    }
    limits = sandbox.limits.model_copy(
        update={
            "timeout_s": budget + JOB_SLACK_S,
            "cpu_s": None,
            "output_bytes": max(sandbox.limits.output_bytes, 64_000_000),
        }
    )
    body = json.dumps(payload, allow_nan=False)
    files: dict[str, str | bytes] = {".mca-payload.json": body, ".mca-harness.bin": harness_code()}
    # The harness execs the candidate and the tests: what they import decides the worker.
    tested = [g.setup for g in groups] + [c.src for g in groups for c in g.cases]
    imports = source_imports(code, *tested)
    result = await sandbox.arun(BOOTSTRAP, files=files, limits=limits, imports=imports)
    run = _collect(result, nonce, len(inputs), [c.id for g in groups for c in g.cases], entry_point)
    gated = bool(inputs) and any((o := run.tests.get(t)) is not None and not o.passed for t in gate)
    return run.model_copy(update={"gated": True}) if gated else run


def _collect(
    result: ExecResult, nonce: str, n_inputs: int, test_ids: list[str], entry_point: str | None
) -> ProgramRun:
    records = harness_records(result.stdout, nonce)
    load = next((r for r in records if r.get("k") == "load"), None)
    done = any(r.get("k") == "done" for r in records)
    job_error = None if done else _job_error(result)
    if load is None:
        return ProgramRun(
            load_error=job_error or ExecError(type="HarnessError", message="no report"),
            duration_ms=result.duration_ms,
            job_error=job_error,
        )
    reason = job_error.message if job_error else "not run"
    outputs = [CallOutcome(kind="skipped", error=reason) for _ in range(n_inputs)]
    tests = {t: TestOutcome(id=t, kind="skipped", error=job_error) for t in test_ids}
    for r in records:
        if r.get("k") == "call" and 0 <= r.get("i", -1) < n_inputs:
            outputs[r["i"]] = _call(r)
        elif r.get("k") == "test" and r.get("id") in tests:
            tests[r["id"]] = _test(r)
    load_error = ExecError.model_validate(_error(load["error"])) if "error" in load else None
    return ProgramRun(
        load_error=load_error,
        output=str(load.get("output", "")),
        result=_result(load) if entry_point is None and load_error is None else None,
        files=written_files(load.get("files") or [])
        if entry_point is None and load_error is None
        else None,
        outputs=outputs if load_error is None else [],
        tests=tests if load_error is None else {},
        duration_ms=result.duration_ms,
        job_error=job_error,
    )


def harness_records(stdout: str, nonce: str) -> list[dict[str, Any]]:
    """The harness's records in a job's stdout: lines carrying `nonce`, cut lines skipped."""
    out = []
    for line in stdout.split("\n"):
        at = line.find(nonce)
        if at < 0:
            continue
        try:
            record = json.loads(line[at + len(nonce) :])
        except ValueError:
            continue  # a line cut by the output cap
        if isinstance(record, dict):
            out.append(record)
    return out


def _job_error(result: ExecResult) -> ExecError:
    if result.timed_out:
        return ExecError(type="Timeout", message="the job ran out of time; later cells skipped")
    if result.error is not None:
        return result.error
    return ExecError(
        type="Crashed",
        message=f"the interpreter stopped (exit status {result.exit_status}); later cells skipped",
    )


def _error(raw: Any) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    return {
        "type": str(raw.get("type", "Error")),
        "message": str(raw.get("message", "")),
        "line": raw.get("line") if isinstance(raw.get("line"), int) else None,
    }


def _call(r: dict[str, Any]) -> CallOutcome:
    kind = r.get("o")
    if kind == "value":
        try:
            after = codec.decode(r["a"], subtypes=True) if "a" in r else None
            return CallOutcome(
                kind="value",
                value=codec.decode(r.get("v"), subtypes=True),
                args_after=tuple(after) if isinstance(after, list) else after,
            )
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            return CallOutcome(kind="raised", error=f"HarnessError: undecodable value: {exc}")
    if kind in ("raised", "timeout", "skipped"):
        return CallOutcome(kind=kind, error=str(r.get("e", "")))
    return CallOutcome(kind="skipped", error="malformed outcome")


def _test(r: dict[str, Any]) -> TestOutcome:
    kind = r.get("o") if r.get("o") in ("pass", "fail", "error", "timeout", "skipped") else "error"
    error = ExecError.model_validate(_error(r["error"])) if "error" in r else None
    calls = r.get("calls")
    return TestOutcome(
        id=str(r["id"]),
        kind=kind,
        actual=r.get("actual"),
        expected=r.get("expected"),
        error=error,
        calls=[str(c) for c in calls] if isinstance(calls, list) else [],
        in_process=r.get("in_process") is True,
    )


def _result(load: dict[str, Any]) -> CallOutcome:
    if not load.get("has_result"):
        return CallOutcome(kind="raised", error="NoResult: the code did not set `result`")
    return _call({"o": "value", "v": load.get("result")})
