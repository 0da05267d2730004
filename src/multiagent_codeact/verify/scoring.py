"""From the execution matrix to a verdict: filters, behaviour clusters, a posterior, a gate.

1. Trusted tests (the task's examples and the user's tests) filter: a candidate that fails one
   is out. A trusted test that no candidate passes is more likely mis-stated or mis-parsed than
   failed by everyone, so it is reported, not used, and the verdict can be no better than
   disputed.
2. The survivors cluster by behaviour on the differential inputs (or by their `result`
   value), compared exactly: types, exceptions by type, and the arguments after the call.
3. posterior.py weighs the clusters, and "none of them", against the pass/fail matrix of the
   generated tests: the chosen cluster's posterior is the confidence.
4. No verdict without independent agreement. "verified" needs the confidence AND either two
   distinct programs that agree on discriminating inputs (ones a rival behaviour answers
   differently, or that draw more than one answer), or a single program that passes tests
   written apart from it that a rival behaviour fails. A lone survivor of the examples is
   disputed however well it does on tests that nothing else was held to.
5. Agreement does not outvote a rival. Where another behaviour also passes the examples and
   answers differently, a test written from the task alone (the designer's, or its ruling on
   the inputs in dispute) must side with the agreeing programs, and none with the rival: alike
   wrong programs are common, and counting them is majority voting. A ruling the chosen
   behaviour fails rules it out of "verified", however many programs agree on it.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import pyast
from ..domain import Candidate, Verdict
from . import codec
from .harness import CRASHED
from .posterior import Outcome, PosteriorParams, TestRecord, Unit, posterior
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
    threshold: float = 0.8  # confidence needed to call a candidate verified
    atol: float = 1e-9  # floats agree within these, and only with floats
    rtol: float = 1e-9
    min_agreement: int = 3  # discriminating inputs two programs must agree on (or all there are)
    min_discriminating_tests: int = 2  # for a single program: independent tests a rival fails
    posterior: PosteriorParams = field(default_factory=PosteriorParams)


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
    notes += _in_process_notes(matrix)
    loaded = [c for c in matrix.candidates if matrix.runs[c.id].loaded]
    survivors = [c for c in loaded if all(matrix.runs[c.id].tests[t].passed for t in credible_hard)]
    behaviours = {c.id: _behaviour(matrix, matrix.runs[c.id]) for c in loaded}
    informative = _informative(behaviours, [c.id for c in survivors or loaded])
    clusters = _cluster([c.id for c in survivors], behaviours, informative, params, matrix)
    generated = [t for t in tests if t.source not in TRUSTED_SOURCES]
    survivor_ids = {c.id for c in survivors}
    agreement = [
        _agreement(i, clusters, behaviours, informative, matrix, params)
        for i in range(len(clusters))
    ]
    units, unit_of = _units(clusters, agreement, loaded, survivor_ids, matrix)
    records = _records(generated, units, unit_of, matrix)
    post = posterior(units, records, params.posterior)
    probs = [post.probabilities.get(f"k{i}", 0.0) for i in range(len(clusters))]
    cluster_ev = [
        ClusterEvidence(
            index=i,
            members=members,
            tests_passed=_passed(members, generated, matrix),
            score=round(post.log_odds.get(f"k{i}", 0.0), 4),
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
            [_no_survivor_reason(hard, credible_hard, matrix)]
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
        key=lambda c: (_passed([c.id], generated, matrix), _seen(behaviours[c.id])),
    )
    confidence = probs[best]
    gate_ok, reasons = _gate(
        best,
        clusters,
        behaviours,
        informative,
        records,
        unit_of,
        matrix,
        params,
        post.probabilities,
    )
    reasons.append(
        f"posterior {confidence:.2f} that it is the right behaviour"
        + (f" (none of them: {post.none:.2f})" if post.none >= 0.05 else "")
    )
    if not credible_hard and loaded:
        reasons.append("the task states no example or test of its own to check against")
    verdict = Verdict.VERIFIED if gate_ok and confidence >= params.threshold else Verdict.DISPUTED
    unmet = [t for t in hard if not t.credible]
    if verdict is Verdict.DISPUTED:
        if gate_ok:
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


# -- independent agreement ---------------------------------------------------------------------


def _gate(
    best: int,
    clusters: list[list[str]],
    behaviours: dict[str, list[CallOutcome]],
    informative: list[int],
    records: list[TestRecord],
    unit_of: dict[str, str],
    matrix: Matrix,
    params: ScoringParams,
    probabilities: dict[str, float],
) -> tuple[bool, list[str]]:
    """Whether independent evidence backs the cluster at all, and the reasons, naming it."""
    members = clusters[best]
    programs = _programs(members, matrix)
    names = ", ".join(members)
    rivals = [m for i, m in enumerate(clusters) if i != best]
    reasons: list[str] = []
    unit = unit_of.get(members[0], "")
    strongest = max(rivals, key=lambda m: probabilities.get(unit_of.get(m[0], ""), 0.0), default=[])
    rival_unit = unit_of.get(strongest[0], "") if strongest else ""
    # The test designer was asked, from the task alone, what the function must return exactly
    # where the programs disagree: a ruling it fails is a contradiction, not noise.
    overruled = [
        r for r in records if r.designer and not r.blind and r.outcomes.get(unit) == "fail"
    ]
    if overruled:
        reasons.insert(
            0,
            f"asked from the task alone where the programs disagree, the test designer rules "
            f"against {names}: " + ", ".join(r.id for r in overruled[:4]),
        )
        return False, reasons
    if len(programs) >= 2:
        if matrix.entry_point is None:
            outcome = behaviours[members[0]][0] if behaviours[members[0]] else None
            if outcome is not None and outcome.kind == "value":
                reasons.append(
                    f"{len(programs)} distinct programs ({names}) compute the same result"
                )
                return True, reasons
            reasons.insert(0, f"the programs that agree ({names}) agree on no result")
            return False, reasons
        agreed = _agreed_inputs(members, behaviours, informative)
        discriminating = _discriminating(agreed, members, rivals, behaviours, params)
        needed = max(1, min(params.min_agreement, len(agreed)))
        detail = (
            f"{len(programs)} distinct programs ({names}) agree on {len(agreed)} "
            f"input{'s' if len(agreed) != 1 else ''}, {len(discriminating)} of them discriminating"
        )
        if rivals:
            detail += f" (a rival behaviour, {', '.join(strongest)}, answers differently)"
        reasons.append(detail)
        # A rival that only crashes or hangs where these answer is broken, not another reading.
        answering = [r for r in rivals if _answers_otherwise(members, r, behaviours, params)]
        contender = max(
            answering, key=lambda m: probabilities.get(unit_of.get(m[0], ""), 0.0), default=[]
        )
        if len(discriminating) >= needed and not contender:
            return True, reasons
        if len(discriminating) >= needed:
            # Agreement outvoting a rival that also passes the task's examples is a majority
            # vote: alike wrong programs are common. Tests written from the task must decide.
            strongest = contender
            backing, against = _deciding(records, unit, unit_of[contender[0]], rulings=True)
            if backing and not against:
                reasons.append(
                    "tests written from the task alone side with it against the rival: "
                    + ", ".join(r.id for r in backing[:4])
                )
                return True, reasons
            reasons.insert(
                0,
                f"{names} agree, but a rival behaviour ({', '.join(strongest)}) passes the "
                "task's examples too, and "
                + (
                    f"{len(against)} test(s) written from the task alone side with the rival"
                    if against
                    else "no test written from the task alone decides between them"
                ),
            )
            return False, reasons
        why = (
            "on no input at all"
            if not agreed
            else "only on inputs that every behaviour answers the same way"
        )
        reasons.insert(0, f"the programs agree {why}: agreement there proves nothing")
        return False, reasons
    # A single program: only tests written apart from all code (the test designer's), that
    # its strongest rival fails, can back it; a coder's tests restate that coder's reading.
    independent, against = _deciding(records, unit, rival_unit, rulings=False)
    if rival_unit and len(independent) >= params.min_discriminating_tests and not against:
        reasons.append(
            f"{members[0]} passes {len(independent)} tests written from the task alone that its "
            f"strongest rival ({', '.join(strongest)}) fails: "
            + ", ".join(r.id for r in independent[:4])
        )
        return True, reasons
    rival_units = {rival_unit} if rival_unit else set()
    if len(members) > 1:
        reasons.insert(
            0, f"{names} are the same program sampled more than once: one implementation"
        )
    if rival_units:
        reasons.insert(
            0,
            f"{members[0]} is one program against a rival behaviour "
            f"({', '.join(strongest)}), and tests written from the task alone do not tell "
            "them apart" + (f"; {len(against)} of them side with the rival" if against else ""),
        )
    else:
        reasons.insert(
            0,
            f"only one program ({members[0]}) passes the task's examples: no independent "
            "implementation agrees with it",
        )
    return False, reasons


def _answers_otherwise(
    members: list[str],
    rival: list[str],
    behaviours: dict[str, list[CallOutcome]],
    params: ScoringParams,
) -> bool:
    """Whether the rival gives another answer (a value or an exception) where these answer."""
    mine, theirs = behaviours[members[0]], behaviours[rival[0]]
    return any(
        _answered(a) and _answered(b) and not _agree(a, b, params)
        for a, b in zip(mine, theirs, strict=False)
    )


def _answered(outcome: CallOutcome) -> bool:
    return outcome.kind == "value" or (outcome.kind == "raised" and outcome.error != CRASHED)


def _deciding(
    records: list[TestRecord], unit: str, rival_unit: str, *, rulings: bool
) -> tuple[list[TestRecord], list[TestRecord]]:
    """Tests written from the task alone (blind, or also the designer's rulings) that `unit`
    passes and its rival fails, and those that side the other way."""
    trusted = [r for r in records if r.designer and (r.blind or rulings)]
    backing = [
        r
        for r in trusted
        if r.outcomes.get(unit) == "pass" and r.outcomes.get(rival_unit) == "fail"
    ]
    against = [
        r
        for r in trusted
        if r.blind and r.outcomes.get(unit) == "fail" and r.outcomes.get(rival_unit) == "pass"
    ]
    return backing, against


def _agreed_inputs(
    members: list[str], behaviours: dict[str, list[CallOutcome]], informative: list[int]
) -> list[int]:
    """Informative inputs on which at least two members were both observed."""
    out = []
    for k in informative:
        seen = sum(
            1
            for m in members
            if k < len(behaviours[m]) and behaviours[m][k].kind in ("value", "raised")
        )
        if seen >= 2:
            out.append(k)
    return out


def _discriminating(
    agreed: list[int],
    members: list[str],
    rivals: list[list[str]],
    behaviours: dict[str, list[CallOutcome]],
    params: ScoringParams,
) -> list[int]:
    """Agreed inputs that tell behaviours apart: all of them when the answers vary from input
    to input (a constant answer shows no logic agreeing), else those a rival answers
    differently."""
    mine = behaviours[members[0]]
    if len({_key(mine[k]) for k in agreed}) >= 2:
        return agreed
    return [
        k
        for k in agreed
        if any(
            k < len(behaviours[r[0]])
            and behaviours[r[0]][k].kind in ("value", "raised")
            and not _agree(mine[k], behaviours[r[0]][k], params)
            for r in rivals
        )
    ]


def _key(outcome: CallOutcome) -> str:
    if outcome.kind == "raised":
        return "raised " + outcome.error.split(":", 1)[0]
    try:
        return repr(codec.encode(outcome.value))
    except Exception:
        return repr(outcome.value)


def _programs(members: Sequence[str], matrix: Matrix) -> set[str]:
    """The distinct programs among `members`: the same code sampled twice (comments and layout
    aside) is one implementation agreeing with itself, not two."""
    codes = {c.id: c.code for c in matrix.candidates}
    return {_normalized(codes[m]) for m in members}


# -- the posterior's inputs ---------------------------------------------------------------------


def _agreement(
    index: int,
    clusters: list[list[str]],
    behaviours: dict[str, list[CallOutcome]],
    informative: list[int],
    matrix: Matrix,
    params: ScoringParams,
) -> int:
    """How many discriminating inputs the cluster's programs agree on (a computed result of a
    computation task counts as enough)."""
    members = clusters[index]
    if matrix.entry_point is None:
        first = behaviours[members[0]]
        return params.min_agreement if first and first[0].kind == "value" else 0
    rivals = [m for i, m in enumerate(clusters) if i != index]
    agreed = _agreed_inputs(members, behaviours, informative)
    return len(_discriminating(agreed, members, rivals, behaviours, params))


def _units(
    clusters: list[list[str]],
    agreement: list[int],
    loaded: list[Candidate],
    survivors: set[str],
    matrix: Matrix,
) -> tuple[list[Unit], dict[str, str]]:
    """Survivor clusters as units k0, k1, ...; each distinct rejected program as r0, r1, ..."""
    units = [
        Unit(f"k{i}", len(_programs(m, matrix)), agreement=agreement[i])
        for i, m in enumerate(clusters)
    ]
    unit_of = {c: f"k{i}" for i, m in enumerate(clusters) for c in m}
    by_program: dict[str, str] = {}
    for c in loaded:
        if c.id in survivors:
            continue
        program = _normalized(c.code)
        if program not in by_program:
            by_program[program] = f"r{len(by_program)}"
            units.append(Unit(by_program[program], 1, survivor=False))
        unit_of[c.id] = by_program[program]
    return units, unit_of


def _records(
    generated: list[TestEvidence], units: list[Unit], unit_of: dict[str, str], matrix: Matrix
) -> list[TestRecord]:
    members: dict[str, list[str]] = {}
    for cid, unit in unit_of.items():
        members.setdefault(unit, []).append(cid)
    out = []
    seen: set[tuple[str, str]] = set()
    suite_size: dict[str, int] = {}
    for t in generated:
        suite_size[t.id.rsplit(".", 1)[0]] = suite_size.get(t.id.rsplit(".", 1)[0], 0) + 1
    for t in generated:
        designer = t.source in ("designer", "adjudicator")
        if designer:
            source = t.id.rsplit(".", 1)[0]
        else:
            source = unit_of.get(t.author or "", f"author:{t.author}")
        # The same assert from the same behaviour twice (a program sampled twice, with its
        # tests) is one piece of evidence, not two.
        if (source, t.code.strip()) in seen:
            continue
        seen.add((source, t.code.strip()))
        outcomes: dict[str, Outcome] = {}
        for u in units:
            outcome = _unit_outcome(t.id, members.get(u.id, []), matrix)
            if outcome is not None:
                outcomes[u.id] = outcome
        # An adjudication's asserts are one judgement on the disputed inputs, seen side by side:
        # together they weigh as one test, and they cannot stand in for tests written blind.
        adjudged = t.source == "adjudicator"
        weight = 1.0 / suite_size[source] if adjudged else 1.0
        out.append(TestRecord(t.id, source, designer, outcomes, weight, blind=not adjudged))
    return out


def _unit_outcome(test_id: str, members: list[str], matrix: Matrix) -> Outcome | None:
    """The unit's outcome on a test: the majority of its members that ran it."""
    passed = failed = 0
    for m in members:
        o = matrix.runs[m].tests.get(test_id)
        if o is None or o.kind == "skipped":
            continue
        if o.passed:
            passed += 1
        else:
            failed += 1
    if not passed and not failed:
        return None
    return "pass" if passed >= failed else "fail"


def _in_process_notes(matrix: Matrix) -> list[str]:
    forgeable = sorted(
        {t for run in matrix.runs.values() for t, o in run.tests.items() if o.in_process}
    )
    if not forgeable:
        return []
    shown = ", ".join(forgeable[:5]) + (" ..." if len(forgeable) > 5 else "")
    return [
        f"tests {shown} needed live objects and ran inside the candidates' own processes, "
        "where a candidate could forge its outcome"
    ]


def _no_survivor_reason(hard: list[TestEvidence], credible_hard: list[str], matrix: Matrix) -> str:
    codes = {t.id: t.code for t in hard}
    shown = "; ".join(f"`{codes[t].strip()}`" for t in credible_hard[:2])
    return f"no candidate passes the task's own examples and tests ({shown})"


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
                    credible=bool(passed_by) or group.strict or group.source not in TRUSTED_SOURCES,
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
                    calls=o.calls,
                    in_process=o.in_process,
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
    """What a program is compared on: its outputs on the inputs; for a computation task, its
    `result`, and the files it writes when any program writes some (they are answers too)."""
    if matrix.entry_point is None:
        if run.result is None:
            return []
        if not any(r.files for r in matrix.runs.values()):
            return [run.result]
        return [run.result, CallOutcome(kind="value", value=run.files or {})]
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
    if a.kind in ("skipped", "timeout") or b.kind in ("skipped", "timeout"):
        # Unknown, not a difference: a slow right program is still right, and the optimizer,
        # not the verifier, is where speed counts.
        return True
    return same_outcome(a, b, atol=params.atol, rtol=params.rtol, exact=True, ordered=False)


def _same_behaviour(
    a: list[CallOutcome], b: list[CallOutcome], informative: list[int], params: ScoringParams
) -> bool:
    shared = [k for k in informative if k < len(a) and k < len(b)]
    # Alike only on evidence: a candidate whose job died at its first call (every outcome
    # skipped) is like no one, not like everyone.
    seen = any(a[k].kind in _OBSERVED and b[k].kind in _OBSERVED for k in shared)
    return (seen or not shared) and all(_agree(a[k], b[k], params) for k in shared)


def _tests_differ(matrix: Matrix, a: str, b: str) -> bool:
    """A test is a call too: two programs of which one passes a test and the other fails it
    behave differently on that test's input, whatever the drawn inputs say."""
    ta, tb = matrix.runs[a].tests, matrix.runs[b].tests
    for test_id, x in ta.items():
        y = tb.get(test_id)
        if y is None or x.kind in ("skipped", "timeout") or y.kind in ("skipped", "timeout"):
            continue
        if x.passed != y.passed:
            return True
    return False


_OBSERVED = ("value", "raised")


def _seen(outcomes: list[CallOutcome]) -> int:
    return sum(o.kind in _OBSERVED for o in outcomes)


def _cluster(
    ids: list[str],
    behaviours: dict[str, list[CallOutcome]],
    informative: list[int],
    params: ScoringParams,
    matrix: Matrix | None = None,
) -> list[list[str]]:
    clusters: list[list[str]] = []
    # The best-observed candidates lead (and stand for) their clusters, so one that crashed
    # halfway is compared on what it did, not used as the yardstick for the rest.
    for cid in sorted(ids, key=lambda c: -_seen(behaviours[c])):
        for members in clusters:
            if _same_behaviour(behaviours[members[0]], behaviours[cid], informative, params) and (
                matrix is None or not _tests_differ(matrix, members[0], cid)
            ):
                members.append(cid)
                break
        else:
            clusters.append([cid])
    return clusters


# -- scores -----------------------------------------------------------------------------------


def _passed(members: Sequence[str], generated: list[TestEvidence], matrix: Matrix) -> float:
    """Generated tests passed by the best of `members` (each test counted once)."""
    return float(
        max(
            sum(
                1
                for t in generated
                if (o := matrix.runs[m].tests.get(t.id)) is not None and o.passed
            )
            for m in members
        )
    )


def same_program(a: str, b: str) -> bool:
    """The same code, comments and layout aside."""
    return _normalized(a) == _normalized(b)


def _normalized(code: str) -> str:
    try:
        return ast.dump(pyast.parse(code))
    except (SyntaxError, ValueError, RecursionError):
        return code.strip()


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
    """MBR-exec style: the largest behaviour cluster, with no tests at all (among candidates
    that were called on the inputs)."""
    called = [c.id for c in loaded if behaviours[c.id]] or [c.id for c in loaded]
    clusters = _cluster(called, behaviours, informative, params)
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
        return "result" if k == 0 else "the files it writes"
    args = ", ".join(codec.show(a, 120) for a in matrix.inputs[k])
    return f"{matrix.entry_point}({args})"


def _show(o: CallOutcome) -> str:
    if o.kind == "value":
        return codec.show(o.value)
    if o.kind == "raised":
        return f"raises {o.error[:200]}"
    return o.kind
