"""Candidate pools with a known answer: executed mutants and variants, simulated tests.

The expensive part, running the reference and every rewrite on HumanEval+'s hidden inputs, is
done once per problem and cached on disk as a `ProblemData`; `build_pool` then draws any number
of pools from it without running anything. Outcomes are compared the way the verifier compares
them (`same_outcome`: exceptions and timeouts are outcomes, floats within the problem's atol).
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import math
import os
import random
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationError

from ..domain import Candidate, Task
from ..errors import MCAError
from ..sandbox import Limits, Sandbox
from ..verify.runner import CallOutcome, run_program, same_outcome
from .humaneval import FLOAT_RTOL, Problem
from .mutate import Mutant, Variant, correct_variants, generate_mutants

CACHE_VERSION = 2  # bump when what is cached, or how it is classified, changes
CALL_TIMEOUT_S = 2.0  # per call; generous, since a reference call that times out is dropped
CHUNK = 250  # inputs per sandbox job: long runs split so the pool's workers share them
DEFAULT_VARIANTS = 6
DEFAULT_MAX_MUTANTS = 60


class PoolTooSmallError(MCAError, ValueError):
    """The problem has too few distinct mutants (or variants) for the requested pool."""


class Call(BaseModel):
    """One call's outcome as cached: the value as a Python literal when it has one."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["value", "raised", "timeout", "skipped"]
    literal: str | None = None  # repr(value), only when it round-trips through literal_eval
    error: str = ""

    @property
    def value(self) -> Any:
        return None if self.literal is None else ast.literal_eval(self.literal)


class Program(BaseModel):
    """A mutant or a variant after running: what it is, and how it behaved on base inputs."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["mutant", "variant"]
    operator: str  # the mutation operator, or the variant's transforms joined by '+'
    location: str = ""
    detail: str = ""
    source: str
    base: list[Call]  # one per ProblemData.base_inputs
    base_differs: list[bool]  # differs from the reference on that base input
    hidden_correct: bool  # matches the reference on every usable base and plus input
    signature: str  # hash of every outcome observed: equal signatures, alike behaviour

    @property
    def origin(self) -> str:
        if self.kind == "variant":
            return f"variant:{self.operator}"
        return f"mutant:{self.operator} {self.location} ({self.detail})"


class ProblemData(BaseModel):
    """Everything `build_pool` needs for one problem, computed once and cached."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    prompt: str
    entry_point: str
    float_atol: float
    base_inputs: list[list[Any]]  # usable base inputs: the reference returned or raised
    reference: list[Call]  # the reference's outcome on each of them
    hidden_inputs: int  # usable base + plus inputs that judge hidden correctness
    dropped_inputs: int  # inputs left out: the reference timed out or its value is unusable
    mutants: list[Program]  # behaviour-changing mutants only
    variants: list[Program]  # hidden-correct variants only
    generated_mutants: int
    equivalent_mutants: int  # mutants that matched the reference everywhere: discarded
    rejected_variants: int  # variants that did not match the reference: discarded
    load_error: str | None = None  # the reference itself did not load: no pools
    seconds: float = 0.0

    def to_task(self) -> Task:
        return Task(prompt=self.prompt, entry_point=self.entry_point, id=self.task_id)


class Pool(NamedTuple):
    candidates: list[Candidate]
    hidden_correct: list[bool]


# -- running ------------------------------------------------------------------------------


def _usable(reference: CallOutcome) -> bool:
    """Whether an input can judge candidates: the reference gave a value or a real exception.

    Timeouts are not behaviour, and a value the harness could not ship (an int too long for
    JSON, say) would make every candidate look alike.
    """
    if reference.kind == "value":
        return True
    return reference.kind == "raised" and not reference.error.startswith(
        ("unencodable result", "HarnessError")
    )


async def _run(
    sb: Sandbox, gate: asyncio.Semaphore, code: str, entry: str, inputs: Sequence[Sequence[Any]]
) -> list[CallOutcome]:
    """Outcomes of `entry` on `inputs`, in chunks run concurrently.

    Code that does not load gets a `raised` LoadError outcome for every input.
    """

    async def chunk(part: Sequence[Sequence[Any]]) -> list[CallOutcome]:
        async with gate:
            run = await run_program(
                sb, code, entry, inputs=part, call_timeout_s=CALL_TIMEOUT_S, stop_at_timeout=False
            )
        if run.load_error is not None:
            err = f"{run.load_error.type}: {run.load_error.message}"
            return [CallOutcome(kind="raised", error=f"LoadError: {err}") for _ in part]
        return run.outputs

    parts = [inputs[i : i + CHUNK] for i in range(0, len(inputs), CHUNK)]
    results = await asyncio.gather(*(chunk(p) for p in parts))
    return [o for r in results for o in r]


def _literal(value: Any) -> str | None:
    try:
        text = repr(value)
        if repr(ast.literal_eval(text)) == text:
            return text
    except Exception:
        pass
    return None


def _call(outcome: CallOutcome) -> Call:
    literal = _literal(outcome.value) if outcome.kind == "value" else None
    return Call(kind=outcome.kind, literal=literal, error=outcome.error[:200])


def _signature(outcomes: Sequence[CallOutcome]) -> str:
    h = hashlib.sha256()
    for o in outcomes:
        h.update(f"{o.kind}|{o.value!r}|{o.error.split(':', 1)[0]}\n".encode())
    return h.hexdigest()[:16]


async def compute_problem_data(
    sb: Sandbox,
    problem: Problem,
    *,
    seed: int = 0,
    n_variants: int = DEFAULT_VARIANTS,
    max_mutants: int = DEFAULT_MAX_MUTANTS,
    concurrency: int = 4,
) -> ProblemData:
    """Run the reference, its mutants and variants; keep what really differs / really matches.

    Mutants run on the base inputs first; only those that match the reference there run on
    the plus inputs, which is where the subtle ones (and the equivalent ones) show.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    gate = asyncio.Semaphore(concurrency)
    code, entry = problem.reference_code, problem.entry_point
    n_base = len(problem.base_input) if (problem.base_input or problem.plus_input) else 0
    hidden = problem.hidden_inputs()
    if n_base == 0:  # plain HumanEval: the test's literal calls are both base and hidden
        n_base = len(hidden)
    reference = await _run(sb, gate, code, entry, hidden)
    if reference and all(o.error.startswith("LoadError") for o in reference):
        return _empty(problem, reference[0].error, loop.time() - started)
    keep = [i for i, o in enumerate(reference) if _usable(o)]
    base_idx = [i for i in keep if i < n_base]
    plus_idx = [i for i in keep if i >= n_base]
    base_inputs = [hidden[i] for i in base_idx]
    plus_inputs = [hidden[i] for i in plus_idx]
    ref_base = [reference[i] for i in base_idx]
    ref_plus = [reference[i] for i in plus_idx]
    # HumanEval+'s own judgement: Python's ==, floats within the problem's tolerance.
    tol: dict[str, float] = {"atol": problem.float_atol, "rtol": FLOAT_RTOL}

    def differs(ref: Sequence[CallOutcome], got: Sequence[CallOutcome]) -> list[bool]:
        """Where `got` behaves otherwise. A skipped call (the job died or ran out of budget)
        proves nothing, so it never counts as a difference; nor, for variants, as a match."""
        return [
            g.kind != "skipped"
            and not same_outcome(r, g, atol=tol["atol"], rtol=tol["rtol"], exact=False)
            for r, g in zip(ref, got, strict=True)
        ]

    mutants = generate_mutants(code, entry, seed=seed, limit=max_mutants, prompt=problem.prompt)
    variants = correct_variants(code, entry, n_variants, random.Random(seed), prompt=problem.prompt)

    async def judge_mutant(m: Mutant) -> Program | None:
        base = await _run(sb, gate, m.source, entry, base_inputs)
        base_diff = differs(ref_base, base)
        observed = list(base)
        if not any(base_diff):
            # One chunk at a time, stopping at the first difference: a slow mutant would
            # otherwise cost a timeout per input.
            for at in range(0, len(plus_inputs), CHUNK):
                plus = await _run(sb, gate, m.source, entry, plus_inputs[at : at + CHUNK])
                observed += plus
                if any(differs(ref_plus[at : at + CHUNK], plus)):
                    break
            else:
                return None  # equivalent on every input we have: not a wrong candidate
        return Program(
            kind="mutant",
            operator=m.operator,
            location=m.location,
            detail=m.detail,
            source=m.source,
            base=[_call(o) for o in base],
            base_differs=base_diff,
            hidden_correct=False,
            signature=_signature(observed),
        )

    async def judge_variant(v: Variant) -> Program | None:
        outs = await _run(sb, gate, v.source, entry, base_inputs + plus_inputs)
        if any(differs(ref_base + ref_plus, outs)) or any(o.kind == "skipped" for o in outs):
            return None
        return Program(
            kind="variant",
            operator="+".join(v.transforms),
            source=v.source,
            base=[_call(o) for o in outs[: len(base_inputs)]],
            base_differs=[False] * len(base_inputs),
            hidden_correct=True,
            signature=_signature(outs),
        )

    judged = await asyncio.gather(
        *(judge_mutant(m) for m in mutants), *(judge_variant(v) for v in variants)
    )
    kept_m = [p for p in judged[: len(mutants)] if p is not None]
    kept_v = [p for p in judged[len(mutants) :] if p is not None]
    return ProblemData(
        task_id=problem.task_id,
        prompt=problem.prompt,
        entry_point=entry,
        float_atol=problem.float_atol,
        base_inputs=base_inputs,
        reference=[_call(o) for o in ref_base],
        hidden_inputs=len(keep),
        dropped_inputs=len(hidden) - len(keep),
        mutants=kept_m,
        variants=kept_v,
        generated_mutants=len(mutants),
        equivalent_mutants=len(mutants) - len(kept_m),
        rejected_variants=len(variants) - len(kept_v),
        seconds=loop.time() - started,
    )


def _empty(problem: Problem, error: str, seconds: float) -> ProblemData:
    return ProblemData(
        task_id=problem.task_id,
        prompt=problem.prompt,
        entry_point=problem.entry_point,
        float_atol=problem.float_atol,
        base_inputs=[],
        reference=[],
        hidden_inputs=0,
        dropped_inputs=len(problem.hidden_inputs()),
        mutants=[],
        variants=[],
        generated_mutants=0,
        equivalent_mutants=0,
        rejected_variants=0,
        load_error=error,
        seconds=seconds,
    )


# -- the cache ----------------------------------------------------------------------------


def cache_key(problem: Problem, *, seed: int, n_variants: int, max_mutants: int) -> str:
    """Changes whenever the problem, the settings or the rewriting code change."""
    h = hashlib.sha256()
    h.update(f"v{CACHE_VERSION}|{seed}|{n_variants}|{max_mutants}|{CALL_TIMEOUT_S}\n".encode())
    h.update(Path(__file__).with_name("mutate.py").read_bytes())
    h.update(problem.model_dump_json().encode())
    return h.hexdigest()[:24]


def _read(path: Path) -> ProblemData | None:
    try:
        return ProblemData.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError, ValueError):
        return None  # missing or stale: compute again


def _write(path: Path, data: ProblemData) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(data.model_dump_json(), encoding="utf-8")
    tmp.replace(path)  # atomic: a crash never leaves half a file under the real name


async def prepare(
    problems: Sequence[Problem],
    cache_dir: Path,
    *,
    sandbox: Sandbox | None = None,
    seed: int = 0,
    n_variants: int = DEFAULT_VARIANTS,
    max_mutants: int = DEFAULT_MAX_MUTANTS,
    concurrency: int = 4,
    on_done: Callable[[ProblemData, bool], None] | None = None,
) -> list[ProblemData]:
    """ProblemData for each problem, from the cache where present, else computed and cached.

    A sandbox is opened only when something must run (`sandbox` lends one). `on_done(data,
    cached)` is called as each problem completes, for progress display.
    """
    keys = [
        cache_dir
        / f"{cache_key(p, seed=seed, n_variants=n_variants, max_mutants=max_mutants)}.json"
        for p in problems
    ]
    found = [_read(k) for k in keys]
    results: list[ProblemData | None] = list(found)
    for data in found:
        if data is not None and on_done is not None:
            on_done(data, True)
    missing = [i for i, d in enumerate(found) if d is None]
    if missing:
        own = sandbox is None
        sb = sandbox or Sandbox(
            Limits(timeout_s=60.0, memory_mb=1024), pool_size=max(1, os.cpu_count() or 1)
        )
        if own:
            await sb.__aenter__()
        try:
            gate = asyncio.Semaphore(max(1, concurrency // 2))  # problems in flight

            async def one(i: int) -> None:
                async with gate:
                    data = await compute_problem_data(
                        sb,
                        problems[i],
                        seed=seed,
                        n_variants=n_variants,
                        max_mutants=max_mutants,
                        concurrency=concurrency,
                    )
                _write(keys[i], data)
                results[i] = data
                if on_done is not None:
                    on_done(data, False)

            await asyncio.gather(*(one(i) for i in missing))
        finally:
            if own:
                await sb.__aexit__(None, None, None)
    return [r for r in results if r is not None]


# -- simulated tests ----------------------------------------------------------------------


def _is_float(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def assert_line(entry: str, args: Sequence[Any], expected: Any, atol: float) -> str | None:
    """`assert ENTRY(args) == EXPECTED`, or an atol comparison when EXPECTED is a float.

    None when an argument or the expected value has no literal form that reads back the same.
    """
    arg_texts = [_literal(a) for a in args]
    expected_text = _literal(expected)
    if expected_text is None or any(t is None for t in arg_texts):
        return None
    call = f"{entry}({', '.join(t for t in arg_texts if t is not None)})"
    if _is_float(expected):
        return f"assert abs({call} - {expected_text}) <= {atol!r}"
    return f"assert {call} == {expected_text}"


def perturb(value: Any, rng: random.Random) -> Any:
    """A wrong value of the same type, for wrong tests when no mutant offers one."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.choice((1, -1))
    if isinstance(value, float):
        return value + max(1.0, abs(value) * 0.1)
    if isinstance(value, str):
        return value[:-1] if value else "a"
    if isinstance(value, list):
        return value[:-1] if value else [0]
    if isinstance(value, tuple):
        return value[:-1] if value else (0,)
    if isinstance(value, dict):
        return {} if value else {"a": 0}
    if isinstance(value, (set, frozenset)):
        return set() if value else {0}
    return 0 if value is None else None


def _wrong_value(
    data: ProblemData, i: int, preferred: Sequence[Program], rng: random.Random
) -> Any:
    """A plausible wrong expected value for base input `i`: what some mutant returns there."""
    for group in (preferred, data.mutants):
        options = {
            p.base[i].literal
            for p in group
            if p.base_differs[i] and p.base[i].kind == "value" and p.base[i].literal is not None
        }
        if options:
            return ast.literal_eval(rng.choice(sorted(o for o in options if o is not None)))
    right = data.reference[i].value
    return perturb(right, rng)


def simulated_tests(
    data: ProblemData,
    n_tests: int,
    wrong_share: float,
    rng: random.Random,
    *,
    preferred_wrong: Sequence[Program] = (),
) -> tuple[str, int]:
    """Test code as a model would write it for this problem, and how many of its tests are wrong.

    Inputs come from the base inputs; expected values from the reference, except a
    `wrong_share` of them (rounded stochastically), which take a mutant's output on that input
    (from `preferred_wrong` first) or else a perturbed value.
    """
    usable = [
        i for i, ref in enumerate(data.reference) if ref.kind == "value" and ref.literal is not None
    ]
    k = min(n_tests, len(usable))
    chosen = rng.sample(usable, k)
    exact = k * wrong_share
    n_wrong = int(exact) + (1 if rng.random() < exact - int(exact) else 0)
    wrong = set(rng.sample(chosen, n_wrong))
    lines: list[str] = []
    wrong_written = 0
    for i in chosen:
        expected = data.reference[i].value
        if i in wrong:
            expected = _wrong_value(data, i, preferred_wrong, rng)
        line = assert_line(data.entry_point, data.base_inputs[i], expected, data.float_atol)
        if line is not None:
            lines.append(line)
            wrong_written += i in wrong
    return "".join(f"{line}\n" for line in lines), wrong_written


# -- pools --------------------------------------------------------------------------------


def split(n_candidates: int, correct_rate: float) -> tuple[int, int]:
    """(correct, wrong) counts: the correct share rounded half up."""
    n_correct = math.floor(n_candidates * correct_rate + 0.5)
    return n_correct, n_candidates - n_correct


def _pick_mutants(mutants: Sequence[Program], n: int, rng: random.Random) -> list[Program]:
    """Up to `n` distinct mutants, preferring new behaviours, then operators not yet used."""
    left = list(mutants)
    chosen: list[Program] = []
    signatures: set[str] = set()
    operators: Counter[str] = Counter()
    while len(chosen) < n and left:

        def rank(p: Program) -> tuple[bool, int]:
            return p.signature in signatures, operators[p.operator]

        best = min(rank(p) for p in left)
        pick = rng.choice([p for p in left if rank(p) == best])
        left.remove(pick)
        chosen.append(pick)
        signatures.add(pick.signature)
        operators[pick.operator] += 1
    return chosen


def build_pool(
    data: ProblemData,
    n_candidates: int,
    correct_rate: float,
    wrong_test_share: float,
    tests_per_candidate: int,
    rng: random.Random,
) -> Pool:
    """A shuffled pool of `n_candidates`, `correct_rate` of them correct variants.

    The rest are distinct behaviour-changing mutants, new behaviours first. A problem with
    fewer mutants (or variants) than asked gives a smaller pool: the metrics use each pool's
    own share of correct candidates, so nothing is made up to fill it. Raises
    PoolTooSmallError only when wrong candidates were asked for and there are none (or
    correct ones and there are none): such a pool cannot test selection.
    Each candidate carries its own simulated tests.
    """
    if n_candidates < 1 or not 0.0 <= correct_rate <= 1.0 or not 0.0 <= wrong_test_share <= 1.0:
        raise ValueError("need n_candidates >= 1 and rates within [0, 1]")
    n_correct, n_wrong = split(n_candidates, correct_rate)
    if n_wrong and not data.mutants:
        raise PoolTooSmallError(f"{data.task_id}: no behaviour-changing mutant")
    if n_correct and not data.variants:
        raise PoolTooSmallError(f"{data.task_id}: no correct variant")
    wrong = _pick_mutants(data.mutants, n_wrong, rng)
    correct = rng.sample(data.variants, min(n_correct, len(data.variants)))
    programs = correct + wrong
    rng.shuffle(programs)
    candidates: list[Candidate] = []
    for i, program in enumerate(programs, start=1):
        tests, _ = simulated_tests(
            data, tests_per_candidate, wrong_test_share, rng, preferred_wrong=wrong
        )
        candidates.append(
            Candidate(code=program.source, tests=tests, origin=program.origin, id=f"c{i}")
        )
    return Pool(candidates, [p.hidden_correct for p in programs])


def describe(data: ProblemData) -> dict[str, Any]:
    """Counts for reports: how rich the problem's pool material is."""
    return {
        "task_id": data.task_id,
        "mutants": len(data.mutants),
        "behaviours": len({m.signature for m in data.mutants}),
        "variants": len(data.variants),
        "generated_mutants": data.generated_mutants,
        "equivalent_mutants": data.equivalent_mutants,
        "rejected_variants": data.rejected_variants,
        "hidden_inputs": data.hidden_inputs,
        "dropped_inputs": data.dropped_inputs,
        "seconds": round(data.seconds, 2),
    }
