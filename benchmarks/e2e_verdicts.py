"""Can a "verified" verdict from asolve() be trusted? Measured end to end (issue 11).

    .venv/bin/python benchmarks/e2e_verdicts.py \\
        --dataset ../shared/datasets/HumanEvalPlus-v0.1.10.jsonl [--split dev|holdout|all]
        [--p 0.4,0.2] [--q 0.8,0.5] [--limit N] [--seed S] [--show-wrong] [--json]
        [--reference OLD.json] [--save-json OUT.json]
    .venv/bin/python benchmarks/e2e_verdicts.py --from-json OUT.json --show-wrong  # re-render

A real OpenAI-compatible server on loopback plays a model of skill p; the real openai client,
AgentChat agents, sandbox, verifier, repair loop and judge run as a user's `asolve()` would.
The simulated model:

- every coder reply, the first ask and every repair ask alike, is a correct variant of the
  reference with probability p, else a behaviour-changing mutant, drawn with replacement (alike
  wrong answers happen in real models). A wrong answer usually passes the obvious example, so
  half the mutants drawn (`--example-passing`) come from those that pass the prompt's own
  examples (doctests and the like, as the verifier reads them) when there are both kinds;
- the tests in a coder's reply, and the test designer's, state the right expected value with
  probability q (per test, stochastically rounded), else a wrong one: for a wrong coder, what
  its own wrong code returns where that differs, else another mutant's output;
- the judge says it answers the task;
- a reply depends only on (seed, task, role, the conversation so far, how many times that exact
  conversation was asked): rows with other p, q share their random numbers, so differences
  between rows are less noisy than independent runs would be.

A solution is right when its code matches the reference on every usable HumanEval+ hidden input
(base + plus), which the pipeline never sees: looked up in the pool material when the code is a
known variant or mutant, else run in the sandbox against the reference.

Problems are split by a hash of task_id into `dev` (~40%) and `holdout` (~60%): whoever tunes
the verifier looks at dev only; quoted figures come from holdout (the default). Problems whose
pool has no correct variant or no behaviour-changing mutant are left out (the model could not
be right, or could not be wrong).

Targets (issue 11), per p, for every q:
- verified-but-wrong, as a share of all problems: <= 1% at p=0.4, <= 2% at p=0.2;
- right (the returned code is right) >= 0.95 x oracle at p=0.4, >= 0.9 x oracle at p=0.2, where
  oracle is the share of problems on which some reply the model gave in the run was right;
- mean model calls per problem <= 1.3 x those of the code before this work (pass that run's
  JSON report, from --json or --save-json, as --reference:
  benchmarks/results/e2e_verdicts_baseline_{all,holdout}.json).

Pool material is cached under .cache/verify_selection (about 15 minutes to build for all 164
problems the first time), which mutants pass the prompt's examples under .cache/e2e_verdicts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import hashlib
import itertools
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from multiagent_codeact.bench.cli_args import parse_rates
from multiagent_codeact.bench.splits import Split, in_split

if TYPE_CHECKING:
    from multiagent_codeact.bench import Problem
    from multiagent_codeact.bench.pools import ProblemData, Program
    from multiagent_codeact.domain import Solution
    from multiagent_codeact.sandbox import Sandbox
    from multiagent_codeact.scripted import ChatRequest, Reply
    from multiagent_codeact.verify.runner import CallOutcome

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = ROOT / ".cache" / "verify_selection"
DEFAULT_EXAMPLES_CACHE = ROOT / ".cache" / "e2e_verdicts"
KEY_ENV = "MCA_BENCH_KEY"
CODER_TESTS = 5  # the coder prompt asks for 3 to 6 asserts
DESIGNER_TESTS = 8  # the test designer prompt asks for 5 to 10
CALL_TIMEOUT_S = 2.0  # per call when judging code on the hidden inputs (as the pool material)
CHUNK = 250  # hidden inputs per sandbox job
EXAMPLES_CACHE_VERSION = 1
BINS: tuple[tuple[float, float, str], ...] = (
    (0.0, 0.5, "<0.5"),
    (0.5, 0.8, "0.5-0.8"),
    (0.8, 0.9, "0.8-0.9"),
    (0.9, 0.95, "0.9-0.95"),
    (0.95, 1.0000001, "0.95-1.0"),
)
# p: (verified-but-wrong at most, as a share of all problems; right at least this x oracle)
TARGETS = {0.4: (0.01, 0.95), 0.2: (0.02, 0.90)}
MAX_CALLS_RATIO = 1.3
JUDGE_REPLY = json.dumps(
    {
        "answers_task": True,
        "reason": "It defines the function the task asks for and returns the value the task "
        "describes, in the form asked.",
    }
)

# -- problems -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Material:
    """One problem as the benchmark uses it: pool material, and which mutants pass examples."""

    problem: Problem
    data: ProblemData
    passing: list[Program]  # mutants that pass every prompt example the reference passes
    failing: list[Program]
    examples: int  # prompt examples the verifier reads (0: every mutant passes, vacuously)

    @property
    def task_id(self) -> str:
        return self.data.task_id


def norm(code: str) -> str:
    """Code compared as text: trailing spaces and blank edges do not make another program."""
    return "\n".join(line.rstrip() for line in code.strip().splitlines())


async def examples_passed(
    sb: Sandbox, data: ProblemData, reference: str, programs: Sequence[str], cache_dir: Path
) -> tuple[int, list[bool]]:
    """(number of prompt examples, for each program whether it passes those the reference does).

    The examples are the ones the verifier itself reads from the prompt (doctests, asserts,
    `f(x) == y` prose), run in the sandbox as trusted tests; cached on disk by content.
    """
    from multiagent_codeact.verify.runner import run_program
    from multiagent_codeact.verify.testcases import examples_from_prompt, parse_tests

    examples = examples_from_prompt(data.prompt, data.entry_point)
    if not examples:
        return 0, [True] * len(programs)
    h = hashlib.sha256(f"v{EXAMPLES_CACHE_VERSION}|{data.entry_point}\n".encode())
    for part in (reference, *examples, *programs):
        h.update(hashlib.sha256(part.encode()).digest())
    path = cache_dir / f"{h.hexdigest()[:24]}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(cached, list) and len(cached) == len(programs):
            return len(examples), [bool(x) for x in cached]
    except (OSError, ValueError):
        pass
    group = parse_tests("\n".join(examples), data.entry_point, group_id="example", source="example")
    gate = asyncio.Semaphore(8)

    async def passes(code: str) -> set[str] | None:
        """The examples `code` passes; None when the job died (a timeout under load, say)."""
        for _attempt in range(2):
            async with gate:
                run = await run_program(
                    sb, code, data.entry_point, tests=[group], call_timeout_s=1.0
                )
            if run.load_error is not None and run.job_error is None:
                return set()  # it does not load: it passes nothing
            if run.job_error is None:
                return {t for t, o in run.tests.items() if o.passed}
        return None

    wanted = await passes(reference)  # a prompt's example can be wrong: the reference decides
    if wanted is None:
        raise RuntimeError(f"{data.task_id}: the reference's run on the examples did not finish")
    got = await asyncio.gather(*(passes(code) for code in programs))
    result = [g is not None and wanted <= g for g in got]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result), encoding="utf-8")
    tmp.replace(path)
    return len(examples), result


async def load_material(
    problems: Sequence[Problem],
    sb: Sandbox,
    *,
    cache_dir: Path,
    examples_cache_dir: Path,
    on_done: Callable[[Any, bool], None] | None = None,
) -> tuple[list[Material], dict[str, str]]:
    """Material for every usable problem, and why each other one was left out."""
    from multiagent_codeact.bench.pools import prepare

    datas = await prepare(problems, cache_dir, sandbox=sb, on_done=on_done)
    by_id = {p.task_id: p for p in problems}
    materials: list[Material] = []
    left_out: dict[str, str] = {}
    for data in datas:
        if data.load_error is not None:
            left_out[data.task_id] = f"the reference does not load: {data.load_error}"
            continue
        if not data.variants or not data.mutants:
            left_out[data.task_id] = "no correct variant" if not data.variants else "no mutant"
            continue
        problem = by_id[data.task_id]
        n, ok = await examples_passed(
            sb, data, problem.reference_code, [m.source for m in data.mutants], examples_cache_dir
        )
        materials.append(
            Material(
                problem=problem,
                data=data,
                passing=[m for m, good in zip(data.mutants, ok, strict=True) if good],
                failing=[m for m, good in zip(data.mutants, ok, strict=True) if not good],
                examples=n,
            )
        )
    return materials, left_out


# -- the simulated model --------------------------------------------------------------------


def coder_reply(code: str, tests: str) -> str:
    return (
        "## Explanation\nI implement the task as its docstring describes.\n\n## Code\n"
        f"```python\n{code.rstrip()}\n```\n\n## Tests\n```python\n{tests.rstrip()}\n```\n"
    )


class SimulatedModel:
    """Answers every role as a model of skill p whose tests are right with probability q.

    A handler for `Script(handler=...)`: it is called from the server's threads, so what it
    records is kept under a lock.
    """

    def __init__(
        self,
        materials: Sequence[Material],
        *,
        p: float,
        q: float,
        seed: int,
        example_passing: float = 0.5,
    ) -> None:
        self.by_prompt = {m.data.prompt: m for m in materials}
        self.p, self.q, self.seed = p, q, seed
        self.example_passing = example_passing
        self.offered: dict[str, list[bool]] = {}  # task_id: hidden_correct of each coder reply
        self.roles: dict[str, int] = {}
        self._asked: dict[str, int] = {}
        self._lock = threading.Lock()

    def material_for(self, text: str) -> Material | None:
        found = [m for prompt, m in self.by_prompt.items() if prompt in text]
        return max(found, key=lambda m: len(m.data.prompt), default=None)

    def __call__(self, request: ChatRequest) -> Reply:
        from multiagent_codeact.bench.pools import simulated_tests
        from multiagent_codeact.scripted import Reply

        text = "\n".join(str(m.get("content", "")) for m in request.messages)
        material = self.material_for(text)
        if material is None:
            return Reply(status=400, content="the scripted model knows no such task")
        role = request.role or "coder"
        conversation = hashlib.sha256(text.encode()).hexdigest()
        key = f"{material.task_id}|{role}|{conversation}"
        with self._lock:
            n = self._asked[key] = self._asked.get(key, 0) + 1
            self.roles[role] = self.roles.get(role, 0) + 1
        rng = random.Random(f"{self.seed}|{key}|{n}")
        data = material.data
        if role == "judge":
            return Reply(content=JUDGE_REPLY)
        if role == "test_designer" and "Disagreements:" in request.last_user:
            return Reply(
                content=f"```python\n{self.adjudicate(material, request.last_user, rng)}```"
            )
        if role == "test_designer":
            tests, _ = simulated_tests(data, DESIGNER_TESTS, 1.0 - self.q, rng)
            return Reply(content=f"```python\n{tests}```")
        # A coder, first ask or repair alike (and any role this benchmark does not know).
        right_draw, kind_draw = rng.random(), rng.random()
        if right_draw < self.p:
            program = rng.choice(data.variants)
        else:
            use_passing = material.passing and (
                not material.failing or kind_draw < self.example_passing
            )
            program = rng.choice(material.passing if use_passing else material.failing)
        wrong_like = [] if program.hidden_correct else [program]
        tests, _ = simulated_tests(data, CODER_TESTS, 1.0 - self.q, rng, preferred_wrong=wrong_like)
        with self._lock:
            self.offered.setdefault(material.task_id, []).append(program.hidden_correct)
        return Reply(content=coder_reply(program.source, tests))

    def adjudicate(self, material: Material, asked: str, rng: random.Random) -> str:
        """The designer asked what the function must return where two programs disagree:
        right with probability q (the reference's answer), else siding with the wrong one."""
        lines = []
        for call, first, second in ADJUDICATION.findall(asked):
            truth = reference_answer(material.data.variants[0].source, call)
            if truth is None:
                continue  # the reference raises or hangs here: the task does not decide it
            if rng.random() >= self.q:
                wrong = [v for v in (first, second) if v != truth and not v.startswith("raises")]
                if not wrong:
                    continue
                truth = wrong[0]
            lines.append(f"assert {call} == {truth}")
        return "".join(f"{line}\n" for line in lines) or "# the task does not decide these\n"


ADJUDICATION = re.compile(r"^- `(.+?)`: one program gives (.+), the other (.+)$", re.M)


def reference_answer(code: str, call: str) -> str | None:
    """repr of what the reference returns on `call`, in a process of its own (2 s at most)."""
    script = f"{code}\nimport sys\nsys.set_int_max_str_digits(0)\nprint(repr({call}))\n"
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=2
        )
    except subprocess.TimeoutExpired:
        return None
    out = done.stdout.strip()
    return out if done.returncode == 0 and out and len(out) < 2000 else None


# -- judging code on the hidden inputs ------------------------------------------------------


class HiddenJudge:
    """Whether code is right on a problem's hidden inputs, which the pipeline never sees.

    Known pool programs are looked up; anything else (code the pipeline changed) is run in the
    sandbox against the reference, on every input where the reference returned or raised.
    """

    def __init__(self, sb: Sandbox, materials: Sequence[Material]) -> None:
        self.sb = sb
        self.known = {
            (m.task_id, norm(p.source)): p.hidden_correct
            for m in materials
            for p in (*m.data.variants, *m.data.mutants)
        }
        self.origin = {
            (m.task_id, norm(p.source)): p.origin
            for m in materials
            for p in (*m.data.variants, *m.data.mutants)
        }
        self.executed = 0  # programs judged by running them
        self._reference: dict[str, tuple[list[list[Any]], list[CallOutcome]]] = {}

    async def right(self, code: str | None, material: Material) -> bool:
        if code is None:
            return False
        key = (material.task_id, norm(code))
        if key not in self.known:
            self.executed += 1
            self.known[key] = await self._run_and_compare(code, material.problem)
        return self.known[key]

    async def _outcomes(
        self, code: str, entry: str, inputs: Sequence[Sequence[Any]]
    ) -> list[CallOutcome] | None:
        from multiagent_codeact.verify.runner import run_program

        out: list[CallOutcome] = []
        for at in range(0, len(inputs), CHUNK):
            run = await run_program(
                self.sb, code, entry, inputs=inputs[at : at + CHUNK], call_timeout_s=CALL_TIMEOUT_S
            )
            if run.load_error is not None:
                return None
            out += run.outputs
        return out

    async def _run_and_compare(self, code: str, problem: Problem) -> bool:
        from multiagent_codeact.bench.humaneval import FLOAT_RTOL
        from multiagent_codeact.verify.runner import same_outcome

        entry = problem.entry_point
        if problem.task_id not in self._reference:
            hidden = problem.hidden_inputs()
            ref = await self._outcomes(problem.reference_code, entry, hidden) or []
            usable = [
                (args, o)
                for args, o in zip(hidden, ref, strict=False)
                if o.kind == "value"
                or (
                    o.kind == "raised"
                    and not o.error.startswith(("unencodable result", "HarnessError"))
                )
            ]
            self._reference[problem.task_id] = ([a for a, _ in usable], [o for _, o in usable])
        inputs, reference = self._reference[problem.task_id]
        got = await self._outcomes(code, entry, inputs)
        if got is None or not reference:
            return False
        atol = problem.float_atol
        return all(
            same_outcome(r, g, atol=atol, rtol=FLOAT_RTOL)
            for r, g in zip(reference, got, strict=True)
        )


# -- one row of the grid --------------------------------------------------------------------


@dataclass
class Outcome:
    """One problem's run: what asolve() said, and what the hidden inputs say."""

    task_id: str
    verdict: str
    confidence: float
    right: bool
    oracle: bool
    replies: int
    right_replies: int
    calls: int
    seconds: float
    rounds: int
    reasons: list[str] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)  # the last report's
    error: str | None = None


def candidate_table(
    solution: Solution, codes: dict[str, str], about: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The last verification's candidates, each with what `about` says of its code."""
    report = solution.report
    if report is None:
        return []
    selected = report.selected.id if report.selected else None
    return [
        {
            "id": c.id,
            **about.get(norm(codes.get(c.id, "")), {}),
            "selected": c.id == selected,
            "status": c.status,
            "cluster": c.cluster,
            "trusted": f"{c.hard_passed}/{c.hard_total}",
            "generated": f"{c.tests_passed}/{c.tests_total}",
        }
        for c in report.evidence.candidates
    ]


async def run_row(
    materials: Sequence[Material],
    *,
    p: float,
    q: float,
    seed: int,
    candidates: int,
    rounds: int,
    sb: Sandbox,
    judge: HiddenJudge,
    example_passing: float = 0.5,
    verify_inputs: int | None = None,
    on_problem: Callable[[Outcome], None] | None = None,
) -> tuple[list[Outcome], dict[str, int]]:
    """Every problem through asolve() against a model of skill p; one server for the row.

    Problems run one at a time, so seconds per problem are those of one user's call.
    `verify_inputs` overrides the verifier's differential inputs (quick tests only).
    """
    from multiagent_codeact.config import PipelineConfig
    from multiagent_codeact.events import Event
    from multiagent_codeact.models import ModelConfig
    from multiagent_codeact.pipeline import asolve
    from multiagent_codeact.scripted import Script, ScriptedModelServer

    os.environ.setdefault(KEY_ENV, "scripted-key")
    model = SimulatedModel(materials, p=p, q=q, seed=seed, example_passing=example_passing)
    outcomes: list[Outcome] = []
    async with ScriptedModelServer(Script(handler=model)) as server:
        config = PipelineConfig(
            model=ModelConfig(
                model="scripted-model", base_url=server.base_url, api_key_env=KEY_ENV
            ),
            candidates=candidates,
            repair_rounds=rounds,
            test_designer=True,
            judge=True,
            **({} if verify_inputs is None else {"verify": {"n_inputs": verify_inputs}}),
        )
        for material in materials:
            events: list[Event] = []
            started = time.perf_counter()
            solution = await asolve(
                material.data.to_task(), config=config, sinks=[events.append], sandbox=sb
            )
            seconds = time.perf_counter() - started
            codes = {
                str(e.data["id"]): str(e.data["code"])
                for e in events
                if e.kind == "candidate" and e.data.get("id") and e.data.get("code")
            }
            passing = {norm(m.source) for m in material.passing}
            # Where the prompt shows no example, "passes the examples" says nothing: left None.
            mutants = (
                {norm(m.source) for m in material.data.mutants} if material.examples else set()
            )
            about: dict[str, dict[str, Any]] = {}  # by normalised code: for the report
            for code in {norm(c) for c in (*codes.values(), solution.code or "") if c}:
                about[code] = {
                    "right": await judge.right(code, material),
                    "program": judge.origin.get((material.task_id, code), "not in the pool"),
                    "example_passing_mutant": (code in passing) if code in mutants else None,
                }
            offered = model.offered.get(material.task_id, [])
            outcome = Outcome(
                task_id=material.task_id,
                verdict=solution.verdict.value,
                confidence=solution.confidence,
                right=solution.code is not None and about[norm(solution.code)]["right"],
                oracle=any(offered),
                replies=len(offered),
                right_replies=sum(offered),
                calls=sum(u.calls for u in solution.usage.values()),
                seconds=seconds,
                rounds=solution.rounds,
                reasons=[r[:300] for r in solution.reasons[:6]],
                candidates=candidate_table(solution, codes, about),
                error=solution.error,
            )
            outcomes.append(outcome)
            if on_problem is not None:
                on_problem(outcome)
    return outcomes, dict(model.roles)


# -- figures --------------------------------------------------------------------------------


def summarize(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The row's figures; shares are of all problems unless named otherwise."""
    n = len(outcomes)
    if n == 0:
        return {"problems": 0}
    verified = [o for o in outcomes if o.verdict == "verified"]
    wrong = [o for o in verified if not o.right]
    oracle = sum(o.oracle for o in outcomes) / n
    right = sum(o.right for o in outcomes) / n
    seconds = [o.seconds for o in outcomes]
    return {
        "problems": n,
        "oracle": oracle,
        "right": right,
        "right_over_oracle": right / oracle if oracle else None,
        "verified": len(verified) / n,
        "verified_wrong": len(wrong),
        "verified_wrong_share": len(wrong) / n,
        "verified_wrong_of_verified": len(wrong) / len(verified) if verified else None,
        "disputed": sum(o.verdict == "disputed" for o in outcomes) / n,
        "failed": sum(o.verdict == "failed" for o in outcomes) / n,
        "mean_calls": statistics.mean(o.calls for o in outcomes),
        "median_s": statistics.median(seconds),
        "mean_s": statistics.mean(seconds),
        "reply_right_rate": sum(o.right_replies for o in outcomes)
        / max(1, sum(o.replies for o in outcomes)),
    }


def calibration(outcomes: Sequence[Outcome], *, verified_only: bool) -> list[dict[str, Any]]:
    """Per confidence bin: how many solutions, and the share of them that is right."""
    rows = []
    for lo, hi, label in BINS:
        inside = [
            o
            for o in outcomes
            if lo <= o.confidence < hi and (not verified_only or o.verdict == "verified")
        ]
        rows.append(
            {
                "bin": label,
                "n": len(inside),
                "right": sum(o.right for o in inside) / len(inside) if inside else None,
            }
        )
    return rows


def targets(row: dict[str, Any], reference_calls: float | None) -> dict[str, bool | None]:
    """Which of issue 11's targets the row meets (None: no target for this p, or no figure)."""
    s = row["summary"]
    found = next((t for p, t in TARGETS.items() if abs(p - row["p"]) < 1e-9), None)
    out: dict[str, bool | None] = {"verified_wrong": None, "right_over_oracle": None}
    if found is not None and s["problems"]:
        out["verified_wrong"] = s["verified_wrong_share"] <= found[0]
        ratio = s["right_over_oracle"]
        out["right_over_oracle"] = None if ratio is None else ratio >= found[1]
    out["calls"] = (
        None
        if reference_calls is None or not s["problems"]
        else s["mean_calls"] <= MAX_CALLS_RATIO * reference_calls
    )
    return out


def reference_calls(path: Path | None) -> dict[tuple[float, float], float]:
    """Mean model calls per (p, q) row of an earlier run's --json output."""
    if path is None:
        return {}
    report = json.loads(path.read_text(encoding="utf-8"))
    return {(r["p"], r["q"]): r["summary"]["mean_calls"] for r in report["rows"]}


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# -- the run --------------------------------------------------------------------------------


async def bench(
    problems: Sequence[Problem],
    *,
    grid: Sequence[tuple[float, float]],
    split: Split = "holdout",
    seed: int = 0,
    candidates: int = 4,
    rounds: int = 2,
    example_passing: float = 0.5,
    cache_dir: Path = DEFAULT_CACHE,
    examples_cache_dir: Path = DEFAULT_EXAMPLES_CACHE,
    pool_size: int = 4,
    verify_inputs: int | None = None,
    sandbox: Sandbox | None = None,
    quiet: bool = True,
) -> dict[str, Any]:
    """The whole measurement, as the JSON report; `problems` are taken in the given split.

    One sandbox serves the whole run: `sandbox` lends one, else one of `pool_size` workers is
    started for it.
    """
    from rich.console import Console
    from rich.progress import Progress

    from multiagent_codeact.sandbox import Limits, Sandbox

    chosen = [p for p in problems if in_split(p.task_id, split)]
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with Progress(console=Console(stderr=True), transient=True, disable=quiet) as progress:
        async with contextlib.AsyncExitStack() as stack:
            sb = sandbox
            if sb is None:
                sb = Sandbox(Limits(timeout_s=60, memory_mb=1024), pool_size=pool_size)
                await stack.enter_async_context(sb)
            prep = progress.add_task(
                "pool material (cached after the first run)", total=len(chosen)
            )
            materials, left_out = await load_material(
                chosen,
                sb,
                cache_dir=cache_dir,
                examples_cache_dir=examples_cache_dir,
                on_done=lambda _d, _c: progress.advance(prep),
            )
            prepare_s = time.perf_counter() - started
            judge = HiddenJudge(sb, materials)
            for p, q in grid:
                task = progress.add_task(f"p={p:g} q={q:g}", total=len(materials))
                outcomes, roles = await run_row(
                    materials, p=p, q=q, seed=seed, candidates=candidates, rounds=rounds, sb=sb,
                    judge=judge, example_passing=example_passing, verify_inputs=verify_inputs,
                    on_problem=functools.partial(_advance, progress, task),
                )  # fmt: skip
                rows.append(
                    {
                        "p": p,
                        "q": q,
                        "summary": summarize(outcomes),
                        "calibration": {
                            "verified": calibration(outcomes, verified_only=True),
                            "all": calibration(outcomes, verified_only=False),
                        },
                        "verified_wrong": [
                            o.task_id for o in outcomes if o.verdict == "verified" and not o.right
                        ],
                        "roles": roles,
                        "results": [asdict(o) for o in outcomes],
                    }
                )
    with_examples = [m for m in materials if m.examples]
    return {
        "split": split,
        "seed": seed,
        "config": {
            "candidates": candidates,
            "repair_rounds": rounds,
            "test_designer": True,
            "judge": True,
            "example_passing": example_passing,
            "verify_inputs": verify_inputs,  # None: the pipeline's default
        },
        "problems_in_split": len(chosen),
        "left_out": left_out,
        "material": {
            "problems": len(materials),
            "with_examples": len(with_examples),
            "mutants": sum(len(m.data.mutants) for m in materials),
            "example_passing_mutants": sum(len(m.passing) for m in with_examples),
            "mutants_with_examples": sum(len(m.data.mutants) for m in with_examples),
            "prepare_seconds": round(prepare_s, 2),
        },
        "judged_by_running": judge.executed,
        "rows": rows,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
    }


def _advance(progress: Any, task: Any, _outcome: Outcome) -> None:
    progress.advance(task)


# -- output ---------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def _mark(ok: bool | None) -> str:
    return "" if ok is None else (" ✓" if ok else " ✗")


def render(report: dict[str, Any], *, show_wrong: bool, reference: dict[Any, float]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 200)
    cfg, mat = report["config"], report["material"]
    title = (
        f"asolve() verdicts end to end, split {report['split']}: {mat['problems']} problems, "
        f"{cfg['candidates']} candidates, {cfg['repair_rounds']} repair rounds, test designer, "
        "judge"
    )
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    columns = ("p", "q", "problems", "oracle", "right", "right/oracle", "verified",
               "verified-but-wrong", "vbw/verified", "disputed", "failed", "calls/problem",
               "median s", "mean s")  # fmt: skip
    for col in columns:
        table.add_column(col, justify="right", no_wrap=True)
    for row in report["rows"]:
        s = row["summary"]
        ref = reference.get((row["p"], row["q"]))
        ok = targets(row, ref)
        if not s["problems"]:
            continue
        calls = f"{s['mean_calls']:.2f}"
        if ref:
            calls += f" ({s['mean_calls'] / ref:.2f}x){_mark(ok['calls'])}"
        ratio = s["right_over_oracle"]
        table.add_row(
            f"{row['p']:g}",
            f"{row['q']:g}",
            str(s["problems"]),
            _pct(s["oracle"]),
            _pct(s["right"]),
            ("–" if ratio is None else f"{ratio:.3f}") + _mark(ok["right_over_oracle"]),
            _pct(s["verified"]),
            f"{s['verified_wrong']} ({_pct(s['verified_wrong_share'])})"
            + _mark(ok["verified_wrong"]),
            _pct(s["verified_wrong_of_verified"]),
            _pct(s["disputed"]),
            _pct(s["failed"]),
            calls,
            f"{s['median_s']:.2f}",
            f"{s['mean_s']:.2f}",
        )
    console.print(table)

    for which in ("verified", "all"):
        cal = Table(
            title=f"Confidence calibration, {which} verdicts: count, share right",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        cal.add_column("p, q", no_wrap=True)
        for _lo, _hi, label in BINS:
            cal.add_column(label, justify="right", no_wrap=True)
        for row in report["rows"]:
            cells = [
                "0" if b["n"] == 0 else f"{b['n']}: {_pct(b['right'])}"
                for b in row["calibration"][which]
            ]
            cal.add_row(f"{row['p']:g}, {row['q']:g}", *cells)
        console.print(cal)

    if show_wrong:
        for row in report["rows"]:
            ids = ", ".join(row["verified_wrong"]) or "none"
            console.print(f"verified but wrong at p={row['p']:g} q={row['q']:g}: {ids}")
        for row in report["rows"]:
            wrong = [r for r in row["results"] if r["verdict"] == "verified" and not r["right"]]
            if not wrong:
                continue
            detail = Table(
                title=f"Verified but wrong at p={row['p']:g} q={row['q']:g}: the last report",
                box=box.SIMPLE_HEAD,
                pad_edge=False,
            )
            for col in ("task", "conf.", "round", "selected program", "its cluster", "others",
                        "trusted", "generated"):  # fmt: skip
                detail.add_column(col, no_wrap=col != "selected program")
            for r in wrong:
                detail.add_row(r["task_id"], f"{r['confidence']:.3f}", str(r["rounds"]),
                               *why_verified(r))  # fmt: skip
            console.print(detail)
    unknown = sorted({r for row in report["rows"] for r in row["roles"]} - {
        "coder", "test_designer", "judge"})  # fmt: skip
    notes = [
        f"Targets (issue 11): verified-but-wrong <= 1% of problems at p=0.4, <= 2% at p=0.2; "
        f"right >= 0.95 x oracle at p=0.4, >= 0.9 x at p=0.2; calls <= {MAX_CALLS_RATIO}x the "
        "reference run's (--reference).",
        f"Problems: {report['problems_in_split']} in the split, {len(report['left_out'])} left "
        f"out (no variant, no mutant, or a reference that does not load); {mat['with_examples']} "
        f"have prompt examples, on which {mat['example_passing_mutants']} of their "
        f"{mat['mutants_with_examples']} mutants pass.",
        "oracle: some reply in the run was right; right: the returned code is right on the "
        "hidden HumanEval+ inputs; verified-but-wrong: count (share of all problems); calls: "
        "model calls of every role per problem; seconds: asolve() wall time per problem.",
    ]
    if report["judged_by_running"]:
        notes.append(f"{report['judged_by_running']} programs not in the pool judged by running.")
    if unknown:
        notes.append(f"Roles answered as coders: {', '.join(unknown)}.")
    m = report["machine"]
    notes.append(
        f"Scripted model on loopback through the real openai client and AgentChat; real sandbox "
        f"and verifier; seed {report['seed']}; {report['seconds']:.0f} s in all. Machine: "
        f"{m['cpus']} CPUs, {m['machine']}, Python {m['python']}, load average {m['loadavg']}."
    )
    for note in notes:
        console.print(f"[dim]{note}[/dim]")


def why_verified(result: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """(selected program, its cluster, the other candidates, trusted, generated) in words."""
    cands = result["candidates"]
    sel = next((c for c in cands if c["selected"]), None)
    if sel is None:
        return ("–", "–", "–", "–", "–")
    mates = [c for c in cands if c["status"] == "ok" and c["cluster"] == sel["cluster"]]
    programs = {c.get("program") for c in mates}
    right = sum(bool(c.get("right")) for c in mates)
    cluster = f"{len(mates)} cand., {len(programs)} program{'s' * (len(programs) != 1)}"
    if right:
        cluster += f", {right} right"
    rejected = sum(c["status"] != "ok" for c in cands)
    rivals = len({c["cluster"] for c in cands if c["status"] == "ok"} - {sel["cluster"]})
    others = f"{rejected} rejected, {rivals} rival cluster{'s' * (rivals != 1)}"
    program = str(sel.get("program", "?"))
    if sel.get("example_passing_mutant"):
        program += " [passes the examples]"
    return program, cluster, others, sel["trusted"], sel["generated"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, help="HumanEval+ JSONL (required to run)")
    parser.add_argument("--split", choices=("dev", "holdout", "all"), default="holdout")
    parser.add_argument("--p", type=parse_rates, default=[0.4, 0.2], help="model skills")
    parser.add_argument("--q", type=parse_rates, default=[0.8, 0.5], help="test accuracies")
    parser.add_argument("--limit", type=int, default=None, help="first N problems of the split")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="repair rounds")
    parser.add_argument(
        "--example-passing", type=float, default=0.5,
        help="share of wrong replies drawn from mutants that pass the prompt's examples",
    )  # fmt: skip
    parser.add_argument("--pool-size", type=int, default=4, help="sandbox workers")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--examples-cache-dir", type=Path, default=DEFAULT_EXAMPLES_CACHE)
    parser.add_argument("--reference", type=Path, help="an earlier --json output: calls ratio")
    parser.add_argument("--show-wrong", action="store_true", help="list verified-but-wrong ids")
    parser.add_argument("--json", action="store_true", help="print the JSON report instead")
    parser.add_argument("--save-json", type=Path, help="also write the JSON report to this file")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--from-json", type=Path, help="render a saved report; run nothing")
    args = parser.parse_args(argv)
    if args.dataset is None and args.from_json is None:
        parser.error("--dataset is required (or --from-json to render a saved report)")

    from multiagent_codeact.bench import load_problems
    from multiagent_codeact.errors import DatasetError, SandboxError

    try:
        reference = reference_calls(args.reference)
        saved = None if args.from_json is None else json.loads(args.from_json.read_text("utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"e2e_verdicts: cannot read a saved report: {exc}", file=sys.stderr)
        return 2
    if saved is not None:
        report: dict[str, Any] = saved
    else:
        try:
            problems = [p for p in load_problems(args.dataset) if in_split(p.task_id, args.split)]
            report = asyncio.run(
                bench(
                    problems[: args.limit],
                    grid=list(itertools.product(args.p, args.q)),
                    split=args.split,
                    seed=args.seed,
                    candidates=args.candidates,
                    rounds=args.rounds,
                    example_passing=args.example_passing,
                    cache_dir=args.cache_dir,
                    examples_cache_dir=args.examples_cache_dir,
                    pool_size=args.pool_size,
                    quiet=args.quiet,
                )
            )
        except DatasetError as exc:
            print(f"e2e_verdicts: {exc}", file=sys.stderr)
            return 2
        except SandboxError as exc:
            print(f"e2e_verdicts: the sandbox is unavailable: {exc}", file=sys.stderr)
            return 2
    for row in report["rows"]:
        row["targets"] = targets(row, reference.get((row["p"], row["q"])))
    if args.save_json is not None:
        args.save_json.parent.mkdir(parents=True, exist_ok=True)
        args.save_json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        render(report, show_wrong=args.show_wrong, reference=reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
