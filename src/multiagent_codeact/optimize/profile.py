"""Time a function on inputs that grow, inside the sandbox, and say how its cost grows.

One job per measurement: the timing harness (timing_harness.py) loads the code, times each
input several times around the call alone, and stops growing the input once a call takes
longer than `stop_s`, so a quadratic or exponential solution costs a bounded time to measure.
The growth exponent is the slope of log time against log size over the largest inputs, where
fixed per-call costs no longer hide how the work grows.
"""

from __future__ import annotations

import json
import marshal
import math
import secrets
import statistics
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..sandbox import Sandbox
from ..sandbox.tiers import source_imports
from ..verify import codec
from ..verify.runner import BOOTSTRAP, JOB_SLACK_S, harness_records
from .report import HotLine, Profile, SizeTiming
from .scaling import SizedInput

__all__ = ["Profile", "TimingRun", "growth_exponent", "profile", "time_programs"]

FIT_FLOOR_NS = 10_000  # below ~10 µs a call is mostly fixed overhead, not work that grows
FIT_POINTS = 6  # the exponent comes from the largest inputs timed
HOT_LINES = 5


class ProgramTimings(BaseModel):
    """One program's timings in a job: full ones by input index, and what went wrong."""

    model_config = ConfigDict(frozen=True)

    timings: dict[int, SizeTiming] = Field(default_factory=dict)
    failures: dict[int, str] = Field(default_factory=dict)


class TimingRun(BaseModel):
    """Everything one timing job reported."""

    model_config = ConfigDict(frozen=True)

    programs: list[ProgramTimings]
    load_error: str | None = None
    lines: dict[str, int] = Field(default_factory=dict)
    lines_complete: bool = True
    memory_bytes: int | None = None
    memory_method: Literal["tracemalloc", "maxrss"] | None = None
    job_error: str | None = None
    kept_state: dict[int, list[str]] = Field(
        default_factory=dict, description="per program, what it kept across calls"
    )


@cache
def timing_code() -> bytes:
    verify = Path(__file__).parent.parent / "verify"
    parts = [
        (verify / "codec.py").read_text(encoding="utf-8"),
        (verify / "harness.py").read_text(encoding="utf-8"),
        (Path(__file__).parent / "timing_harness.py").read_text(encoding="utf-8"),
        "timing_main()\n",
    ]
    # The harness's own file name: its timer handler leaves harness frames alone.
    return marshal.dumps(compile("\n\n".join(parts), "<mca-harness>", "exec"))


async def time_programs(
    sandbox: Sandbox,
    programs: Sequence[str],
    entry_point: str,
    inputs: Sequence[SizedInput],
    *,
    repeats: int = 5,
    stop_s: float = 0.1,
    call_timeout_s: float = 2.0,
    budget_s: float = 30.0,
    line_profile: bool = False,
    memory: bool = False,
) -> TimingRun:
    """Time each program on each input (smallest first), alternating between programs."""
    nonce = "\x1e" + secrets.token_hex(8) + ":"
    method = "tracemalloc" if "tracemalloc" in sandbox.allowlist else "maxrss"
    payload = {
        "nonce": nonce,
        "programs": list(programs),
        "entry": entry_point,
        "inputs": [codec.encode(list(i.args)) for i in inputs],
        "variants": {
            str(k): [codec.encode(list(v)) for v in i.variants]
            for k, i in enumerate(inputs)
            if i.variants
        },
        "repeats": repeats,
        "stop_s": stop_s,
        "call_timeout": call_timeout_s,
        "load_timeout": max(call_timeout_s, 5.0),
        "budget": budget_s,
        "max_value_chars": 4096,
        "line_profile": line_profile,
        "memory": method if memory else None,
    }
    limits = sandbox.limits.model_copy(update={"timeout_s": budget_s + JOB_SLACK_S, "cpu_s": None})
    files: dict[str, str | bytes] = {
        ".mca-payload.json": json.dumps(payload, allow_nan=False),
        ".mca-harness.bin": timing_code(),
    }
    imports = source_imports(*programs)  # the harness execs them: their imports pick the worker
    result = await sandbox.arun(BOOTSTRAP, files=files, limits=limits, imports=imports)
    records = harness_records(result.stdout, nonce)
    done = any(r.get("k") == "done" for r in records)
    job_error = None
    if not done:
        error = result.error
        job_error = (
            "the timing job ran out of time"
            if result.timed_out
            else (f"{error.type}: {error.message}" if error else "the timing job stopped")
        )
    return _collect(records, len(programs), inputs, job_error)


def _collect(
    records: list[dict[str, Any]], n: int, inputs: Sequence[SizedInput], job_error: str | None
) -> TimingRun:
    programs = [ProgramTimings() for _ in range(n)]
    fields: dict[str, Any] = {"job_error": job_error}
    for r in records:
        kind = r.get("k")
        if kind == "load" and "error" in r:
            err = r["error"]
            fields["load_error"] = (
                f"program {r.get('p', 0)}: {err.get('type')}: {err.get('message')}"
            )
        elif kind == "time" and 0 <= r.get("p", -1) < n and 0 <= r.get("i", -1) < len(inputs):
            p, i = r["p"], r["i"]
            if r.get("o") == "value" and r.get("ns"):
                samples = [float(x) for x in r["ns"]]
                programs[p].timings[i] = SizeTiming(size=inputs[i].size, samples_ns=samples)
            else:
                programs[p].failures[i] = f"{r.get('o')}: {r.get('e', '')}".strip()
        elif kind == "lines":
            fields["lines"] = {str(k): int(v) for k, v in r.get("counts", {}).items()}
            fields["lines_complete"] = bool(r.get("complete", True))
        elif kind == "state" and 0 <= r.get("p", -1) < n:
            fields.setdefault("kept_state", {})[r["p"]] = [str(g) for g in r.get("grew", [])]
        elif kind == "memory":
            fields["memory_bytes"] = int(r["bytes"])
            fields["memory_method"] = r.get("method")
    return TimingRun(programs=programs, **fields)


async def profile(
    sandbox: Sandbox,
    code: str,
    entry_point: str,
    ladder: Sequence[SizedInput],
    *,
    repeats: int = 5,
    stop_s: float = 0.1,
    call_timeout_s: float = 2.0,
    budget_s: float = 30.0,
) -> Profile:
    """Timings on the growth ladder, the growth exponent, hot lines and peak memory."""
    run = await time_programs(
        sandbox,
        [code],
        entry_point,
        ladder,
        repeats=repeats,
        stop_s=stop_s,
        call_timeout_s=call_timeout_s,
        budget_s=budget_s,
        line_profile=True,
        memory=True,
    )
    errors = [e for e in (run.load_error, run.job_error) if e]
    if run.load_error:
        return Profile(errors=errors)
    timed = run.programs[0]
    timings = [timed.timings[i] for i in sorted(timed.timings)]
    errors += [f"size {ladder[i].size}: {why}" for i, why in sorted(timed.failures.items())]
    hot = hot_lines(run.lines, code)
    return Profile(
        timings=timings,
        exponent=growth_exponent(timings),
        stopped=_stopped(timed, ladder, stop_s),
        hot_lines=hot[:HOT_LINES],
        hottest_function=_hottest_function(run.lines),
        peak_memory_bytes=run.memory_bytes,
        memory_method=run.memory_method,
        errors=errors,
    )


def growth_exponent(timings: Sequence[SizeTiming]) -> float | None:
    """Slope of log(median time) against log(size) over the largest inputs: the median of
    the slopes between every two points (Theil-Sen), so one input timed during a noisy moment
    cannot bend it the way it bends a least-squares line.

    None when fewer than two sizes are usable: one point says nothing about growth.
    """
    points = [(t.size, t.median_ns) for t in timings if t.size > 0 and t.median_ns > 0]
    above = [p for p in points if p[1] >= FIT_FLOOR_NS]
    use = (above if len(above) >= 2 else points)[-FIT_POINTS:]
    if len({s for s, _ in use}) < 2:
        return None
    logs = [(math.log(s), math.log(t)) for s, t in use]
    slopes = [
        (y2 - y1) / (x2 - x1)
        for i, (x1, y1) in enumerate(logs)
        for x2, y2 in logs[i + 1 :]
        if x2 != x1
    ]
    return statistics.median(slopes)


def hot_lines(counts: dict[str, int], code: str) -> list[HotLine]:
    lines = code.splitlines()
    out = []
    for key, hits in counts.items():
        function, _, number = key.rpartition(":")
        line = int(number) if number.isdigit() else 0
        source = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        out.append(HotLine(function=function, line=line, hits=hits, source=source))
    return sorted(out, key=lambda h: -h.hits)


def _hottest_function(counts: dict[str, int]) -> str | None:
    by_function: dict[str, int] = {}
    for key, hits in counts.items():
        name = key.rpartition(":")[0]
        by_function[name] = by_function.get(name, 0) + hits
    return max(by_function, key=by_function.__getitem__) if by_function else None


def _stopped(timed: ProgramTimings, ladder: Sequence[SizedInput], stop_s: float) -> str:
    reached = max([*timed.timings, *timed.failures], default=-1)
    if reached >= len(ladder) - 1:
        return ""
    if reached in timed.failures:
        return f"size {ladder[reached].size}: {timed.failures[reached]}"
    if reached >= 0:
        ms = timed.timings[reached].median_ns / 1e6
        size = ladder[reached].size
        return f"one call took {ms:.1f} ms at size {size} (limit {stop_s * 1000:.0f} ms)"
    return "nothing was timed"
