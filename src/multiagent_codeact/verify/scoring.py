"""From the execution matrix to a verdict: filters, behaviour clusters, scores, confidence.

1. Trusted tests (the task's examples and the user's tests) filter: a candidate that fails one
   is out. A trusted test that no candidate passes is more likely mis-stated or mis-parsed than
   failed by everyone, so it is reported and not used.
2. The survivors cluster by behaviour on the differential inputs (or by their `result` value).
3. Each cluster gets a posterior: exp(test_weight * tests passed) * size ** agreement_weight,
   normalised over clusters. It is CodeT's dual agreement (tests passed and agreeing candidates)
   read as odds: every extra generated test passed multiplies them by a constant, and so does
   every extra independent candidate that behaves alike. Generated tests are noisy and not
   independent of the code (an author writes tests that match its own misreading), so a test
   that only its lone author passes counts half.
4. Confidence is the winner's posterior times how much evidence there is at all. One candidate
   with no tests is the only cluster (posterior 1) but has nothing backing it.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..domain import Candidate, Verdict
from . import codec
from .report import (
    CandidateEvidence,
    Cell,
    ClusterEvidence,
    Counterexample,
    Evidence,
    TestEvidence,
    VerificationReport,
)
from .runner import CallOutcome, ProgramRun, same_outcome
from .testcases import TRUSTED_SOURCES, TestGroup


@dataclass(frozen=True)
class ScoringParams:
    test_weight: float = 0.5  # log-odds per generated test passed
    agreement_weight: float = 2.5  # exponent on the number of candidates that agree
    own_test_weight: float = 0.5  # a test's weight for a cluster that is only its author
    threshold: float = 0.8  # confidence needed to call a candidate verified
    evidence_scale: float = 3.0  # evidence units at which the evidence factor reaches 63%
    atol: float = 1e-9
    rtol: float = 1e-9


@dataclass
class Matrix:
    """Everything the candidates did, as the runner reported it."""

    candidates: list[Candidate]
    runs: dict[str, ProgramRun]
    groups: list[TestGroup]
    inputs: list[tuple[Any, ...]]
    entry_point: str | None


def decide(matrix: Matrix, params: ScoringParams) -> VerificationReport:
    tests = _test_evidence(matrix)
    cells = _cells(matrix)
    hard = [t for t in tests if t.source in TRUSTED_SOURCES]
    credible_hard = [t.id for t in hard if t.credible]
    notes = [
        f"trusted test {t.id} passes for no candidate, so it is not used as a filter: {t.code}"
        for t in hard
        if not t.credible
    ]
    notes += [f"tests {g.id} ({g.source}) not used: {g.error}" for g in matrix.groups if g.error]
    loaded = [c for c in matrix.candidates if matrix.runs[c.id].loaded]
    survivors = [c for c in loaded if all(matrix.runs[c.id].tests[t].passed for t in credible_hard)]
    behaviours = {c.id: _behaviour(matrix, matrix.runs[c.id]) for c in loaded}
    informative = _informative(behaviours, [c.id for c in survivors or loaded])
    clusters = _cluster([c.id for c in survivors], behaviours, informative, params)
    generated = [t for t in tests if t.source not in TRUSTED_SOURCES]
    scored = [_score(members, generated, matrix, params) for members in clusters]
    top = max(scored, default=0.0)
    weights = [math.exp(s - top) for s in scored]
    probs = [w / sum(weights) for w in weights]
    cluster_ev = [
        ClusterEvidence(
            index=i,
            members=members,
            tests_passed=_passed(members[0], generated, matrix, params, members),
            score=round(scored[i], 4),
            probability=round(probs[i], 4),
        )
        for i, members in enumerate(clusters)
    ]
    cluster_of = {m: i for i, members in enumerate(clusters) for m in members}
    evidence = Evidence(
        candidates=[
            _candidate_evidence(c, matrix, tests, credible_hard, cluster_of, cells)
            for c in matrix.candidates
        ],
        tests=tests,
        cells=cells,
        clusters=cluster_ev,
        inputs=len(matrix.inputs),
        informative_inputs=len(informative),
        notes=notes,
    )
    alternatives = {
        "codet": _codet_pick(loaded, generated, matrix),
        "majority": _majority_pick(loaded, behaviours, informative, params),
    }
    if not survivors:
        fallback = _fallback(loaded, credible_hard, matrix)
        reasons = (
            ["no candidate passes the task's own examples and tests"]
            if loaded
            else ["no candidate could be loaded: " + _load_errors(matrix)]
        )
        return VerificationReport(
            selected=fallback,
            verdict=Verdict.FAILED,
            confidence=0.0,
            reasons=reasons,
            evidence=evidence,
            alternatives=alternatives,
        )
    best = max(range(len(clusters)), key=lambda i: (probs[i], len(clusters[i]), -i))
    members = clusters[best]
    selected = max(
        (c for c in survivors if c.id in members),
        key=lambda c: (_passed(c.id, generated, matrix, params), _seen(behaviours[c.id])),
    )
    strength, reasons = _evidence_strength(
        members, generated, len(credible_hard), len(informative), matrix, params
    )
    confidence = probs[best] * (1 - math.exp(-strength / params.evidence_scale))
    pass_rate = _pass_rate(selected.id, generated, matrix)
    if pass_rate is not None and pass_rate < 0.5:
        confidence *= 2 * pass_rate
        reasons.append(f"it fails {1 - pass_rate:.0%} of the generated tests")
    rivals = len(clusters) - 1
    if rivals:
        reasons.append(
            f"{rivals} rival behaviour{'s' if rivals > 1 else ''}; "
            f"this one has posterior {probs[best]:.2f}"
        )
    verdict = Verdict.VERIFIED if confidence >= params.threshold else Verdict.DISPUTED
    unmet = [t for t in hard if not t.credible]
    if verdict is Verdict.DISPUTED:
        reasons.insert(0, f"evidence too weak to verify (confidence {confidence:.2f})")
    elif unmet:
        # Possibly a mis-stated example, possibly every candidate is wrong: not for us to call.
        verdict = Verdict.DISPUTED
        reasons.insert(0, f"it fails {len(unmet)} of the task's own examples or tests")
    counterexamples = _counterexamples(best, clusters, behaviours, matrix, params)
    return VerificationReport(
        selected=selected,
        verdict=verdict,
        confidence=round(min(max(confidence, 0.0), 1.0), 4),
        reasons=reasons,
        evidence=evidence.model_copy(update={"counterexamples": counterexamples}),
        alternatives=alternatives,
    )


# -- the matrix as evidence -----------------------------------------------------------------


def _test_evidence(matrix: Matrix) -> list[TestEvidence]:
    out = []
    loaded = [c.id for c in matrix.candidates if matrix.runs[c.id].loaded]
    for group in matrix.groups:
        for case in group.cases:
            passed_by = [
                cid for cid in loaded if (o := matrix.runs[cid].tests.get(case.id)) and o.passed
            ]
            out.append(
                TestEvidence(
                    id=case.id,
                    source=group.source,
                    author=group.author,
                    code=case.src,
                    passed_by=passed_by,
                    credible=bool(passed_by) or group.source not in TRUSTED_SOURCES,
                )
            )
    return out


def _cells(matrix: Matrix) -> list[Cell]:
    out = []
    for c in matrix.candidates:
        for test_id, o in matrix.runs[c.id].tests.items():
            out.append(
                Cell(
                    test=test_id,
                    candidate=c.id,
                    outcome=o.kind,
                    expected=o.expected,
                    actual=o.actual,
                    error=o.error,
                )
            )
    return out


def _candidate_evidence(
    c: Candidate,
    matrix: Matrix,
    tests: list[TestEvidence],
    credible_hard: list[str],
    cluster_of: dict[str, int],
    cells: list[Cell],
) -> CandidateEvidence:
    run = matrix.runs[c.id]
    if not run.loaded:
        return CandidateEvidence(
            id=c.id, origin=c.origin, status="load_error", load_error=run.load_error
        )
    hard_ok = sum(run.tests[t].passed for t in credible_hard)
    generated = [t.id for t in tests if t.source not in TRUSTED_SOURCES]
    calls: dict[str, int] = {}
    for o in run.outputs:
        calls[o.kind] = calls.get(o.kind, 0) + 1
    hard_ids = {t.id for t in tests if t.source in TRUSTED_SOURCES}
    failures = [
        cell
        for cell in cells
        if cell.candidate == c.id and cell.test in hard_ids and cell.outcome != "pass"
    ][:5]
    return CandidateEvidence(
        id=c.id,
        origin=c.origin,
        status="ok" if hard_ok == len(credible_hard) else "rejected",
        hard_passed=hard_ok,
        hard_total=len(credible_hard),
        tests_passed=sum(run.tests[t].passed for t in generated),
        tests_total=len(generated),
        cluster=cluster_of.get(c.id),
        calls=calls,
        failures=failures,
    )


# -- behaviour --------------------------------------------------------------------------------


def _behaviour(matrix: Matrix, run: ProgramRun) -> list[CallOutcome]:
    if matrix.entry_point is None:
        return [run.result] if run.result is not None else []
    return run.outputs


def _informative(behaviours: dict[str, list[CallOutcome]], ids: Sequence[str]) -> list[int]:
    """Inputs on which at least one candidate returned a value: the rest tell nothing apart."""
    if not ids:
        return []
    n = max((len(behaviours[i]) for i in ids), default=0)
    return [
        k
        for k in range(n)
        if any(k < len(behaviours[i]) and behaviours[i][k].kind == "value" for i in ids)
    ]


def _agree(a: CallOutcome, b: CallOutcome, params: ScoringParams) -> bool:
    if a.kind == "skipped" or b.kind == "skipped":
        return True  # unknown, not a difference
    if a.kind == "timeout" and b.kind == "timeout":
        return True
    return same_outcome(a, b, atol=params.atol, rtol=params.rtol)


def _same_behaviour(
    a: list[CallOutcome], b: list[CallOutcome], informative: list[int], params: ScoringParams
) -> bool:
    shared = [k for k in informative if k < len(a) and k < len(b)]
    # Alike only on evidence: a candidate whose job died at its first call (every outcome
    # skipped) is like no one, not like everyone.
    seen = any(a[k].kind != "skipped" and b[k].kind != "skipped" for k in shared)
    return (seen or not shared) and all(_agree(a[k], b[k], params) for k in shared)


def _seen(outcomes: list[CallOutcome]) -> int:
    return sum(o.kind != "skipped" for o in outcomes)


def _cluster(
    ids: list[str],
    behaviours: dict[str, list[CallOutcome]],
    informative: list[int],
    params: ScoringParams,
) -> list[list[str]]:
    clusters: list[list[str]] = []
    # The best-observed candidates lead (and stand for) their clusters, so one that crashed
    # halfway is compared on what it did, not used as the yardstick for the rest.
    for cid in sorted(ids, key=lambda c: -_seen(behaviours[c])):
        for members in clusters:
            if _same_behaviour(behaviours[members[0]], behaviours[cid], informative, params):
                members.append(cid)
                break
        else:
            clusters.append([cid])
    return clusters


# -- scores -----------------------------------------------------------------------------------


def _passed(
    cid: str,
    generated: list[TestEvidence],
    matrix: Matrix,
    params: ScoringParams,
    members: Sequence[str] = (),
) -> float:
    group = set(members) or {cid}
    run = matrix.runs[cid]
    return sum(
        params.own_test_weight if _self_serving(t, group) else 1.0
        for t in generated
        if (o := run.tests.get(t.id)) is not None and o.passed
    )


def _self_serving(test: TestEvidence, group: set[str]) -> bool:
    """A test that only its lone author passes: it may just restate the author's misreading.

    Tests everyone passes change no cluster's odds against another, and a test another
    candidate also passes is independent support; only the rest are discounted.
    """
    return len(group) == 1 and test.author in group and set(test.passed_by) <= group


def _score(
    members: list[str], generated: list[TestEvidence], matrix: Matrix, params: ScoringParams
) -> float:
    best = max(_passed(m, generated, matrix, params, members) for m in members)
    agreeing = _independent(members, matrix)
    return params.test_weight * best + params.agreement_weight * math.log(agreeing)


def _independent(members: Sequence[str], matrix: Matrix) -> int:
    """How many different programs the cluster holds: the same code sampled twice (comments
    and layout aside) is one implementation agreeing with itself, not two."""
    codes = {c.id: c.code for c in matrix.candidates}
    return len({_normalized(codes[m]) for m in members})


def _normalized(code: str) -> str:
    try:
        return ast.dump(ast.parse(code))
    except (SyntaxError, ValueError, RecursionError):
        return code.strip()


def _pass_rate(cid: str, generated: list[TestEvidence], matrix: Matrix) -> float | None:
    run = matrix.runs[cid]
    judged = [o for t in generated if (o := run.tests.get(t.id)) and o.kind != "skipped"]
    return sum(o.passed for o in judged) / len(judged) if judged else None


def _evidence_strength(
    members: list[str],
    generated: list[TestEvidence],
    hard: int,
    informative: int,
    matrix: Matrix,
    params: ScoringParams,
) -> tuple[float, list[str]]:
    """How much independent support the winner has, in rough units of 'one passed test'."""
    tests = _passed(members[0], generated, matrix, params, members)
    agreeing = _independent(members, matrix) - 1
    # Agreement counts for more the more inputs it was checked on.
    agreement = 2.0 * agreeing * min(1.0, 0.25 + informative / 40)
    reasons = []
    if hard:
        reasons.append(
            f"passes all {hard} trusted test{'s' if hard > 1 else ''} (examples and user tests)"
        )
    if agreeing:
        reasons.append(
            f"{agreeing + 1} independent candidates behave alike on {informative} "
            f"input{'s' if informative != 1 else ''}"
        )
    if tests:
        reasons.append(f"passes generated tests worth {tests:g}")
    if not reasons:
        reasons.append("no example, test or independent candidate backs it")
    return hard + tests + agreement, reasons


def _codet_pick(
    loaded: list[Candidate], generated: list[TestEvidence], matrix: Matrix
) -> str | None:
    """CodeT as published: consensus sets by passed tests, scored |solutions| x |tests|."""
    if not loaded:
        return None
    sets: dict[frozenset[str], list[str]] = {}
    for c in loaded:
        run = matrix.runs[c.id]
        passed = frozenset(t.id for t in generated if (o := run.tests.get(t.id)) and o.passed)
        sets.setdefault(passed, []).append(c.id)
    best = max(sets.items(), key=lambda kv: len(kv[0]) * len(kv[1]))
    return best[1][0]


def _majority_pick(
    loaded: list[Candidate],
    behaviours: dict[str, list[CallOutcome]],
    informative: list[int],
    params: ScoringParams,
) -> str | None:
    """MBR-exec style: the largest behaviour cluster, with no tests at all."""
    clusters = _cluster([c.id for c in loaded], behaviours, informative, params)
    return max(clusters, key=len)[0] if clusters else None


def _fallback(
    loaded: list[Candidate], credible_hard: list[str], matrix: Matrix
) -> Candidate | None:
    if not loaded:
        return None
    return max(loaded, key=lambda c: sum(matrix.runs[c.id].tests[t].passed for t in credible_hard))


def _load_errors(matrix: Matrix) -> str:
    errors = [
        f"{c.id}: {run.load_error.type}"
        for c in matrix.candidates
        if (run := matrix.runs[c.id]).load_error is not None
    ]
    return ", ".join(errors[:5])


def _counterexamples(
    best: int,
    clusters: list[list[str]],
    behaviours: dict[str, list[CallOutcome]],
    matrix: Matrix,
    params: ScoringParams,
    per_rival: int = 3,
) -> list[Counterexample]:
    mine = behaviours[clusters[best][0]]
    out = []
    for i, members in enumerate(clusters):
        if i == best:
            continue
        theirs = behaviours[members[0]]
        differing = [
            k for k in range(min(len(mine), len(theirs))) if not _agree(mine[k], theirs[k], params)
        ]
        differing.sort(key=lambda k: len(repr(matrix.inputs[k])) if matrix.inputs else 0)
        for k in differing[:per_rival]:
            out.append(
                Counterexample(
                    call=_call_text(matrix, k),
                    cluster=i,
                    selected_output=_show(mine[k]),
                    rival_output=_show(theirs[k]),
                )
            )
    return out


def _call_text(matrix: Matrix, k: int) -> str:
    if matrix.entry_point is None or not matrix.inputs:
        return "result"
    args = ", ".join(codec.show(a, 120) for a in matrix.inputs[k])
    return f"{matrix.entry_point}({args})"


def _show(o: CallOutcome) -> str:
    if o.kind == "value":
        return codec.show(o.value)
    if o.kind == "raised":
        return f"raises {o.error[:200]}"
    return o.kind
