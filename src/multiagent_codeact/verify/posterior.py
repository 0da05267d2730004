"""How likely each behaviour is to be the right one, given who agrees and which tests pass.

A Bayesian reading of the same pass/fail matrix CodeT uses (in the spirit of B4, ASE'24), with
"none of them is right" as a hypothesis of its own, so that a confidence means what it says.

The units are behaviours: each cluster of survivors (candidates that passed the task's own
examples and behaved alike), plus each distinct rejected program, known to be wrong. Under
the hypothesis H_k that cluster k is the right behaviour:

- Agreement. Every survivor is right with some probability pi (unknown: a Beta prior,
  integrated out); right programs all behave alike, while two wrong ones coincide with a
  probability that falls with the number D of discriminating inputs they agree on, from 1
  (agreeing on nothing proves nothing) to `coincide` (one misreading, one wrong program). So a
  cluster of n distinct programs gains about pi / ((1 - pi) * coincide(D)) per program past
  the first.
- Tests. A test the right behaviour passes is a correct test, one it fails a wrong test. Each
  source of tests (the test designer; each coder, for the tests it wrote) is right at its own
  unknown rate q (a Beta prior per source, integrated out), so a source whose asserts keep
  failing the hypothesised behaviour is read as unreliable and weighs less. A correct test is
  either easy, passed by wrong programs too (with probability `easy`), or discriminating,
  passed by a wrong program only now and then (`slips`); this per-test mixture is what makes a
  test that every program passes worth nothing, and a test that a rival fails worth much. A
  wrong program passes a wrong test rarely (`wrong_passes_wrong`), unless the test is its own
  author's: a test written beside the code restates its author's misreading
  (`own_wrong_passes`), which is why a coder's tests cannot vouch for its own code.
- H_0, "none of them is right", explains the same tests by the same mixture with q at its
  prior mean, test by test.

The posterior of the chosen cluster is the verdict's confidence. The defaults were set on the
dev half of HumanEval+ (benchmarks/calibrate_verifier.py) and are checked on the other half.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["pass", "fail"]


@dataclass(frozen=True)
class Prior:
    """A Beta(a, b) prior on a rate."""

    a: float
    b: float

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)


@dataclass(frozen=True)
class PosteriorParams:
    survivor_right: Prior = Prior(1.5, 1.0)  # pi: a survivor of the examples is right
    coincide: float = 0.3  # two wrong programs behave alike on many discriminating inputs
    coincide_scale: float = 3.0  # ... and on D inputs: coincide + (1 - coincide) exp(-D / this)
    designer_right: Prior = Prior(4.0, 1.0)  # q of the independent test designer
    author_right: Prior = Prior(3.0, 1.0)  # q of a coder's own tests
    rejected_author_right: Prior = Prior(1.5, 1.5)  # ... of one whose code failed the examples
    easy: float = 0.5  # a correct test that wrong programs pass too
    easy_fails: float = 0.05  # ... which a wrong program fails all the same
    slips: float = 0.4  # a wrong program passes a discriminating correct test
    wrong_passes_wrong: float = 0.15  # a wrong program passes another author's wrong test
    own_wrong_passes: float = 0.8  # ... its own author's wrong test
    rejected_weight: float = 0.25  # a rejected program is obviously wrong: a poor stand-in


@dataclass(frozen=True)
class Unit:
    """A behaviour: `programs` distinct programs that agree on `agreement` discriminating
    inputs; `survivor` unless the examples rejected it."""

    id: str
    programs: int
    survivor: bool = True
    agreement: int = 0


@dataclass(frozen=True)
class TestRecord:
    """One generated test: its source, and its outcome on each unit that has one."""

    id: str
    source: str  # a designer suite's id, or the id of the unit of the coder that wrote it
    designer: bool  # written by the test designer, from the task alone
    outcomes: Mapping[str, Outcome] = field(default_factory=dict)
    weight: float = 1.0  # asserts of one judgement share it (an adjudication's answers)
    blind: bool = True  # written before any code or output was seen


@dataclass(frozen=True)
class Posterior:
    """P(cluster is the right behaviour) per survivor unit, and P(none is)."""

    probabilities: dict[str, float]
    none: float
    log_odds: dict[str, float]


def posterior(
    units: Sequence[Unit], tests: Sequence[TestRecord], params: PosteriorParams | None = None
) -> Posterior:
    """The posterior over which survivor unit is the right behaviour, or none."""
    p = params or PosteriorParams()
    weights = {u.id: (1.0 if u.survivor else p.rejected_weight) for u in units}
    logs = {u.id: _log_given(u, units, tests, weights, p) for u in units if u.survivor}
    none = _log_none(units, tests, weights, p)
    top = max([none, *logs.values()])
    exp = {k: math.exp(v - top) for k, v in logs.items()}
    w_none = math.exp(none - top)
    total = w_none + sum(exp.values())
    return Posterior(
        probabilities={k: w / total for k, w in exp.items()},
        none=w_none / total,
        log_odds={k: v - none for k, v in logs.items()},
    )


def _log_given(
    right: Unit,
    units: Sequence[Unit],
    tests: Sequence[TestRecord],
    weights: Mapping[str, float],
    p: PosteriorParams,
) -> float:
    """log P(everything seen | `right` is the right behaviour)."""
    survivors = [u for u in units if u.survivor]
    total = sum(u.programs for u in survivors)
    log = _log_beta_binomial(p.survivor_right, right.programs, total - right.programs)
    log += sum(_log_coincide(u, p) for u in survivors if u.id != right.id)
    by_source: dict[tuple[str, bool], list[float]] = {}  # source -> [correct, wrong]
    for t in tests:
        verdict = t.outcomes.get(right.id)
        if verdict is None:
            continue  # unknown for the hypothesis: the test cannot be classed
        others = {u: o for u, o in t.outcomes.items() if u != right.id}
        counts = by_source.setdefault((t.source, t.designer), [0.0, 0.0])
        if verdict == "pass":
            counts[0] += t.weight
            log += t.weight * _log_if_correct(others, weights, p)
        else:
            counts[1] += t.weight
            log += t.weight * _log_if_wrong(t, others, weights, p)
    for (source, designer), (correct, wrong) in by_source.items():
        log += _log_beta_binomial(_q(source, designer, weights, p), correct, wrong)
    return log


def _log_none(
    units: Sequence[Unit],
    tests: Sequence[TestRecord],
    weights: Mapping[str, float],
    p: PosteriorParams,
) -> float:
    """log P(everything seen | no survivor is right): the right behaviour is one not seen."""
    survivors = [u for u in units if u.survivor]
    total = sum(u.programs for u in survivors)
    log = _log_beta_binomial(p.survivor_right, 0, total)
    log += sum(_log_coincide(u, p) for u in survivors)
    for t in tests:
        if not t.outcomes:
            continue
        q = _q(t.source, t.designer, weights, p).mean
        log += t.weight * _log_add(
            math.log(q) + _log_if_correct(t.outcomes, weights, p),
            math.log(1 - q) + _log_if_wrong(t, t.outcomes, weights, p),
        )
    return log


def _q(source: str, designer: bool, weights: Mapping[str, float], p: PosteriorParams) -> Prior:
    if designer:
        return p.designer_right
    if weights.get(source, 1.0) < 1.0:  # its author's code failed the task's examples
        return p.rejected_author_right
    return p.author_right


def _log_if_correct(
    outcomes: Mapping[str, Outcome], weights: Mapping[str, float], p: PosteriorParams
) -> float:
    """log P(wrong units' outcomes | the test is correct): easy, or discriminating."""
    easy = discriminating = 0.0
    for unit, outcome in outcomes.items():
        w = weights.get(unit, 1.0)
        passed = outcome == "pass"
        easy += w * math.log(1 - p.easy_fails if passed else p.easy_fails)
        discriminating += w * math.log(p.slips if passed else 1 - p.slips)
    return _log_add(math.log(p.easy) + easy, math.log(1 - p.easy) + discriminating)


def _log_if_wrong(
    test: TestRecord,
    outcomes: Mapping[str, Outcome],
    weights: Mapping[str, float],
    p: PosteriorParams,
) -> float:
    """log P(wrong units' outcomes | the test is wrong)."""
    log = 0.0
    for unit, outcome in outcomes.items():
        rate = p.own_wrong_passes if unit == test.source else p.wrong_passes_wrong
        log += weights.get(unit, 1.0) * math.log(rate if outcome == "pass" else 1 - rate)
    return log


def _log_coincide(unit: Unit, p: PosteriorParams) -> float:
    """log P(the unit's programs, all wrong, all behave alike)."""
    if unit.programs <= 1:
        return 0.0
    rate = p.coincide + (1 - p.coincide) * math.exp(-unit.agreement / p.coincide_scale)
    return (unit.programs - 1) * math.log(rate)


def _log_beta_binomial(prior: Prior, successes: float, failures: float) -> float:
    """log of B(a + s, b + f) / B(a, b): the chance of this sequence, the rate integrated out."""
    return _log_beta(prior.a + successes, prior.b + failures) - _log_beta(prior.a, prior.b)


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _log_add(x: float, y: float) -> float:
    top = max(x, y)
    return top + math.log(math.exp(x - top) + math.exp(y - top))
