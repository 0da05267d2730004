"""verify / averify end to end, through the real sandbox: selection, verdicts and evidence."""

from __future__ import annotations

import ast
import asyncio

import pytest

from multiagent_codeact import Candidate, Task
from multiagent_codeact.domain import Verdict
from multiagent_codeact.sandbox import Sandbox
from multiagent_codeact.verify import VerificationReport, averify, verify
from multiagent_codeact.verify.report import CandidateEvidence

ABS_PROMPT = '''def f(x: int) -> int:
    """Return the absolute value of x."""
'''


def cand(cid: str, code: str, tests: str = "") -> Candidate:
    return Candidate(id=cid, code=code, tests=tests, origin=f"test:{cid}")


def evidence_of(report: VerificationReport, cid: str) -> CandidateEvidence:
    return next(c for c in report.evidence.candidates if c.id == cid)


def cluster_of(report: VerificationReport, cid: str) -> list[str]:
    return next(c.members for c in report.evidence.clusters if cid in c.members)


# -- selection ----------------------------------------------------------------------------------


async def test_two_correct_among_three_wrong_are_found_and_verified(sandbox: Sandbox) -> None:
    candidates = [
        cand("w-identity", "def f(x):\n    return x", "assert f(5) == 5\nassert f(-3) == -3\n"),
        cand(
            "g-abs",
            "def f(x):\n    return abs(x)",
            "assert f(-3) == 3\nassert f(0) == 0\nassert f(5) == 5\n",
        ),
        cand("w-negate", "def f(x):\n    return -x", "assert f(-3) == 3\n"),
        cand(
            "g-branch",
            "def f(x):\n    return x if x >= 0 else -x",
            "assert f(-7) == 7\nassert f(2) == 2\n",
        ),
        cand("w-square", "def f(x):\n    return x * x", "assert f(1) == 1\n"),
    ]
    # A test designer's suite, written from the task alone: the independent evidence that two
    # of five coders agreeing needs (the coders' own tests cannot vouch for their code).
    designed = "assert f(-2) == 2\nassert f(9) == 9\nassert f(0) == 0\n"
    report = await averify(
        Task(prompt=ABS_PROMPT, entry_point="f"),
        candidates,
        sandbox=sandbox,
        generated_tests=[designed],
    )

    assert report.verdict is Verdict.VERIFIED and report.verified
    assert report.selected is not None and report.selected.id in {"g-abs", "g-branch"}
    assert report.confidence >= 0.8
    assert sorted(cluster_of(report, "g-abs")) == ["g-abs", "g-branch"]
    assert len(report.evidence.clusters) == 4  # three distinct wrong behaviours
    assert set(report.alternatives) == {"codet", "majority"}
    assert report.alternatives["majority"] in {"g-abs", "g-branch"}
    assert report.summary().startswith("verified (confidence")
    # Every wrong behaviour comes with inputs on which it differs from the selected one.
    rivals = {c.index for c in report.evidence.clusters if "g-abs" not in c.members}
    assert {x.cluster for x in report.evidence.counterexamples} == rivals
    # Generated tests are evidence, not filters: the wrong candidates are still "ok".
    assert all(c.status == "ok" for c in report.evidence.candidates)
    assert evidence_of(report, "g-abs").tests_passed == 5 + 3 + 3  # all but the wrong ones'
    assert evidence_of(report, "g-abs").tests_total == 9 + 3
    wrong_test = next(t for t in report.evidence.tests if t.code == "assert f(-3) == -3")
    assert wrong_test.passed_by == ["w-identity"]
    assert report.evidence.inputs > 10
    assert set(report.evidence.timings_ms) == {"tests_and_inputs", "calls", "scoring"}
    assert report.duration_ms > 0


async def test_the_same_code_twice_is_not_two_independent_votes(sandbox: Sandbox) -> None:
    # Two samples of one wrong program (comments and layout aside) against one right program:
    # a tie, not a 2-to-1 majority.
    wrong = "def f(x):\n    return x"
    candidates = [
        cand("w1", wrong),
        cand("w2", "# the identity\ndef f(x):\n\n    return x  # as is\n"),
        cand("g", "def f(x):\n    return -x if x < 0 else x"),
    ]
    report = await averify(Task(prompt=ABS_PROMPT, entry_point="f"), candidates, sandbox=sandbox)
    assert sorted(cluster_of(report, "w1")) == ["w1", "w2"]
    assert report.verdict is Verdict.DISPUTED
    low, high = sorted(c.probability for c in report.evidence.clusters)
    assert high - low < 0.05  # one program against one: neither is ahead
    assert any("one program against a rival" in r for r in report.reasons), report.reasons


async def test_trusted_tests_filter_and_record_the_failure(sandbox: Sandbox) -> None:
    task = Task(prompt=ABS_PROMPT, entry_point="f", tests="assert f(-4) == 4\nassert f(4) == 4\n")
    candidates = [
        cand("wrong", "def f(x):\n    return x"),
        cand("right", "def f(x):\n    return abs(x)"),
    ]
    report = await averify(task, candidates, sandbox=sandbox, n_inputs=30)
    assert report.selected is not None and report.selected.id == "right"
    wrong = evidence_of(report, "wrong")
    assert wrong.status == "rejected"
    assert (wrong.hard_passed, wrong.hard_total) == (1, 2)
    assert wrong.cluster is None
    (failure,) = wrong.failures
    assert (failure.test, failure.outcome, failure.actual, failure.expected) == (
        "user.1",
        "fail",
        "-4",
        "4",
    )
    assert evidence_of(report, "right").status == "ok"


async def test_a_float_task_clusters_candidates_that_differ_by_float_noise(
    sandbox: Sandbox,
) -> None:
    task = Task(prompt="def f(x: float) -> float:\n    'A third of x.'\n", entry_point="f")
    candidates = [
        cand("exact", "def f(x):\n    return x / 3"),
        cand("noisy", "def f(x):\n    return x / 3 * (1 + 1e-12)"),
        cand("rough", "def f(x):\n    return x * 0.3334"),
    ]
    report = await averify(task, candidates, sandbox=sandbox, n_inputs=40)
    assert sorted(cluster_of(report, "exact")) == ["exact", "noisy"]
    assert cluster_of(report, "rough") == ["rough"]
    assert report.selected is not None and report.selected.id in {"exact", "noisy"}


async def test_counterexamples_are_small_inputs_on_which_the_rival_differs(
    sandbox: Sandbox,
) -> None:
    task = Task(
        prompt="from typing import List\n\ndef f(xs: List[int]) -> int:\n    'Sum of xs.'\n",
        entry_point="f",
    )
    candidates = [
        cand("sum", "def f(xs):\n    return sum(xs)"),
        cand("loop", "def f(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t"),
        cand("first", "def f(xs):\n    return xs[0] if xs else 0"),  # right on short lists
    ]
    report = await averify(task, candidates, sandbox=sandbox, n_inputs=60)
    assert report.selected is not None and report.selected.id in {"sum", "loop"}
    examples = report.evidence.counterexamples
    assert 1 <= len(examples) <= 3
    for example in examples:
        assert example.call.startswith("f(") and len(example.call) <= 24
        (xs,) = ast.literal_eval(example.call[1:] + ",")  # "(…,)" as a tuple
        assert len(xs) >= 2
        assert example.selected_output == repr(sum(xs))
        assert example.rival_output == repr(xs[0])


ZERO_PROMPT = '''def f(x: int) -> str:
    """Return x in decimal, as a string; "0" for zero.
    >>> f(12)
    '12'
    """
'''
# Two distinct programs that agree and are both wrong on zero, against one right program: all
# three pass the example, so without a test from the task, agreement would be a majority vote.
ALIKE_WRONG = [
    cand("w-loop", "def f(x):\n    s = ''\n    while x > 0:\n        s = str(x % 10) + s\n"
         "        x //= 10\n    return s"),
    cand("w-digits", "def f(x):\n    out = []\n    while x > 0:\n        out.append(str(x % 10))\n"
         "        x //= 10\n    return ''.join(reversed(out))"),
    cand("g-str", "def f(x):\n    return str(x) if x >= 0 else ''"),
]  # fmt: skip


async def test_alike_programs_do_not_outvote_a_rival_no_task_test_decides_against(
    sandbox: Sandbox,
) -> None:
    task = Task(prompt=ZERO_PROMPT, entry_point="f")
    domain = "assert f(5) == '5'\nassert f(30) == '30'\n"  # zero not asked
    report = await averify(
        task, ALIKE_WRONG, sandbox=sandbox, n_inputs=40, generated_tests=[domain]
    )
    assert report.verdict is Verdict.DISPUTED
    assert any("passes the task's examples too" in r for r in report.reasons), report.reasons
    assert any("no test written from the task alone decides" in r for r in report.reasons)
    assert any(ce.call == "f(0)" for ce in report.evidence.counterexamples)


async def test_a_ruling_where_the_programs_disagree_decides(sandbox: Sandbox) -> None:
    task = Task(prompt=ZERO_PROMPT, entry_point="f")
    ruling = "assert f(0) == '0'\n"
    report = await averify(
        task, ALIKE_WRONG, sandbox=sandbox, n_inputs=40, adjudicated_tests=[ruling]
    )
    # Asked where they disagree, the designer says zero gives "0": the two that agree lose to
    # the lone right program, which a ruling (seen beside both answers) cannot verify alone.
    assert report.selected is not None and report.selected.id == "g-str"
    assert report.verdict is Verdict.DISPUTED
    assert report.reasons[0].startswith("g-str is one program against a rival behaviour")
    # A ruling that backs the pair against the rival lets their agreement count.
    backing = "assert f(0) == ''\n"
    report = await averify(
        task, ALIKE_WRONG, sandbox=sandbox, n_inputs=40, adjudicated_tests=[backing],
        generated_tests=["assert f(5) == '5'\nassert f(30) == '30'\nassert f(7) == '7'\n"],
    )  # fmt: skip
    assert report.verdict is Verdict.VERIFIED, report.reasons
    assert report.selected is not None and report.selected.id in {"w-loop", "w-digits"}
    assert any("side with it against the rival" in r for r in report.reasons)
    # A ruling that every program fails overrules whichever leads.
    neither = "assert f(0) == 'zero'\n"
    report = await averify(
        task, ALIKE_WRONG, sandbox=sandbox, n_inputs=40, adjudicated_tests=[neither],
        generated_tests=["assert f(5) == '5'\nassert f(30) == '30'\nassert f(7) == '7'\n"],
    )  # fmt: skip
    assert report.verdict is Verdict.DISPUTED
    assert "the test designer rules against" in report.reasons[0], report.reasons


# -- abstaining and failing --------------------------------------------------------------------


async def test_a_single_candidate_with_nothing_to_check_it_is_not_verified(
    sandbox: Sandbox,
) -> None:
    task = Task(prompt="Do something sensible with x.", entry_point="f")
    only = [cand("only", "def f(x):\n    return x")]
    report = await averify(task, only, sandbox=sandbox, n_inputs=30)
    assert report.verdict is Verdict.DISPUTED
    assert report.selected is not None and report.selected.id == "only"
    assert report.confidence <= 0.7  # the prior alone: nothing agrees or disagrees with it
    assert report.reasons[0].startswith("only one program (only) passes")
    assert any("no example or test of its own" in r for r in report.reasons)
    assert report.evidence.inputs > 0  # the generic mix still gave inputs to call it on


async def test_no_candidate_satisfying_the_examples_fails(sandbox: Sandbox) -> None:
    prompt = 'def f(x):\n    """Square x.\n    >>> f(2)\n    4\n    >>> f(3)\n    9\n    """\n'
    candidates = [
        cand("double", "def f(x):\n    return 2 * x"),  # right on f(2) only
        cand("plus6", "def f(x):\n    return x + 6"),  # right on f(3) only
    ]
    report = await averify(Task(prompt=prompt, entry_point="f"), candidates, sandbox=sandbox)
    assert report.verdict is Verdict.FAILED
    assert report.confidence == 0.0
    assert report.reasons == [
        "no candidate passes the task's own examples and tests "
        "(`assert f(2) == 4`; `assert f(3) == 9`)"
    ]
    assert {t.id: t.passed_by for t in report.evidence.tests} == {
        "example.1": ["double"],
        "example.2": ["plus6"],
    }
    assert all(c.status == "rejected" for c in report.evidence.candidates)
    failure = evidence_of(report, "double").failures[0]
    assert (failure.test, failure.actual, failure.expected) == ("example.2", "6", "9")


async def test_candidates_that_all_fail_the_only_example_are_not_verified(
    sandbox: Sandbox,
) -> None:
    prompt = 'def f(x):\n    """\n    >>> f(2)\n    4\n    """\n'
    candidates = [
        cand("inc", "def f(x):\n    return x + 1"),
        cand("triple", "def f(x):\n    return 3 * x"),
    ]
    report = await averify(
        Task(prompt=prompt, entry_point="f"), candidates, sandbox=sandbox, n_inputs=30
    )
    assert report.verdict is not Verdict.VERIFIED
    assert report.confidence < 0.5
    assert any("example.1" in note for note in report.evidence.notes)


async def test_no_loadable_candidate_fails_with_the_reasons(sandbox: Sandbox) -> None:
    candidates = [cand("syntax", "def f(x:\n    pass"), cand("named", "def g(x):\n    return x")]
    report = await averify(
        Task(prompt=ABS_PROMPT, entry_point="f"), candidates, sandbox=sandbox, n_inputs=10
    )
    assert report.verdict is Verdict.FAILED
    assert report.selected is None
    assert report.reasons == [
        "no candidate could be loaded: syntax: SyntaxError, named: MissingEntryPoint"
    ]
    assert report.alternatives == {"codet": None, "majority": None}


async def test_a_trusted_example_every_agreeing_candidate_fails_is_reported_not_used(
    sandbox: Sandbox,
) -> None:
    prompt = 'def f(x: int) -> int:\n    """Double x.\n    >>> f(2)\n    5\n    """\n'
    candidates = [
        cand("mul", "def f(x):\n    return 2 * x"),
        cand("add", "def f(x):\n    return x + x"),
        cand("shift", "def f(x):\n    return x << 1"),
    ]
    report = await averify(
        Task(prompt=prompt, entry_point="f"), candidates, sandbox=sandbox, n_inputs=40
    )
    (example,) = report.evidence.tests
    assert example.source == "example" and not example.credible and example.passed_by == []
    assert any(
        "example.1" in n and "not used as a filter" in n and "assert f(2) == 5" in n
        for n in report.evidence.notes
    )
    assert all(c.status == "ok" and c.hard_total == 0 for c in report.evidence.candidates)
    assert report.verdict is not Verdict.FAILED
    assert report.selected is not None
    assert len(report.evidence.clusters) == 1


# -- bad candidates --------------------------------------------------------------------------


async def test_bad_candidates_are_recorded_and_a_good_one_still_selected(
    sandbox: Sandbox,
) -> None:
    prompt = 'def f(x: int) -> int:\n    """Absolute value.\n    >>> f(-2)\n    2\n    """\n'
    candidates = [
        cand("noparse", "def f(x)\n    return abs(x)"),
        cand("wrongname", "def absolute(x):\n    return abs(x)"),
        cand("hang", "def f(x):\n    while True:\n        pass"),
        cand(
            "crash",
            "import os\ndef f(x):\n"
            "    if x > 3:\n        os.kill(os.getpid(), 9)\n    return abs(x)",
        ),
        cand("flood", "def f(x):\n    print('z' * 1_000_000)\n    return abs(x)"),
        cand("unpicklable", "def f(x):\n    return (lambda: x) if x < 0 else abs(x)"),
        cand("good", "def f(x):\n    return abs(x)"),
        cand("good2", "def f(x):\n    return max(x, -x)"),
    ]
    report = await averify(
        Task(prompt=prompt, entry_point="f"),
        candidates,
        sandbox=sandbox,
        n_inputs=40,
        call_timeout_s=0.2,
    )
    assert report.selected is not None and report.selected.id in {"good", "good2", "flood"}
    assert report.verdict is Verdict.VERIFIED
    n = report.evidence.inputs

    noparse = evidence_of(report, "noparse")
    assert noparse.status == "load_error" and noparse.load_error is not None
    assert noparse.load_error.type == "SyntaxError"
    wrongname = evidence_of(report, "wrongname")
    assert wrongname.status == "load_error" and wrongname.load_error is not None
    assert wrongname.load_error.type == "MissingEntryPoint"
    assert "absolute" in wrongname.load_error.message

    hang = evidence_of(report, "hang")
    assert hang.status == "rejected"  # its example timed out
    assert hang.calls == {}  # out on the example already: never called on the inputs
    assert hang.failures[0].outcome == "timeout"

    crash = evidence_of(report, "crash")
    assert crash.status == "ok"
    # Each crash is the outcome of its own input; a fresh process answers the ones after it.
    assert crash.calls["value"] >= 1 and crash.calls["raised"] >= 1
    assert sum(crash.calls.values()) == n

    assert evidence_of(report, "flood").calls == {"value": n}
    unpicklable = evidence_of(report, "unpicklable")
    assert unpicklable.status == "rejected"  # f(-2) returned a function
    assert unpicklable.calls == {}  # rejected by the example: not called on the inputs
    assert "lambda" in (unpicklable.failures[0].actual or "")

    selected_cluster = cluster_of(report, report.selected.id)
    assert {"good", "good2"} <= set(selected_cluster)
    assert "unpicklable" not in selected_cluster and "hang" not in selected_cluster


async def test_a_candidate_that_crashes_on_every_call_agrees_with_no_one(
    sandbox: Sandbox,
) -> None:
    # Its calls all crash (then, past the restart limit, are skipped): it returns nothing, so it
    # must not join (or merge) other clusters.
    candidates = [
        cand("crash", "import os\ndef f(x):\n    os._exit(0)"),
        cand("identity", "def f(x):\n    return x"),
        cand("good", "def f(x):\n    return abs(x)"),
        cand("good2", "def f(x):\n    return x if x >= 0 else -x"),
    ]
    report = await averify(
        Task(prompt=ABS_PROMPT, entry_point="f"), candidates, sandbox=sandbox, n_inputs=40
    )
    assert report.selected is not None and report.selected.id in {"good", "good2"}
    assert cluster_of(report, "crash") == ["crash"]
    assert cluster_of(report, "identity") == ["identity"]
    assert sorted(cluster_of(report, "good")) == ["good", "good2"]
    crash_calls = evidence_of(report, "crash").calls
    assert set(crash_calls) <= {"raised", "skipped"} and crash_calls.get("raised", 0) >= 1
    assert report.alternatives["majority"] in {"good", "good2"}


async def test_candidate_tests_that_do_not_parse_are_noted(sandbox: Sandbox) -> None:
    candidates = [
        cand("a", "def f(x):\n    return abs(x)", tests="assert f(-1 == 1"),
        cand("b", "def f(x):\n    return abs(x)", tests="assert f(-1) == 1"),
    ]
    report = await averify(
        Task(prompt=ABS_PROMPT, entry_point="f"), candidates, sandbox=sandbox, n_inputs=20
    )
    assert any("t-a" in n and "do not parse" in n for n in report.evidence.notes)
    assert [t.id for t in report.evidence.tests] == ["t-b.1"]


# -- computation tasks -------------------------------------------------------------------------


async def test_computation_tasks_take_the_majority_result(sandbox: Sandbox) -> None:
    task = Task(prompt="Compute c = a * b for a = 6 and b = 7; store it in `result`.")
    candidates = [
        cand("wrong", "a, b = 6, 7\nresult = a + b"),
        cand("mul", "a, b = 6, 7\nresult = a * b"),
        cand("literal", "result = 42"),
        cand("loop", "c = 0\nfor _ in range(7):\n    c += 6\nresult = c"),
        cand("forgot", "c = 6 * 7"),
    ]
    report = await averify(task, candidates, sandbox=sandbox)
    assert report.selected is not None and report.selected.id in {"mul", "literal", "loop"}
    assert sorted(cluster_of(report, "mul")) == ["literal", "loop", "mul"]
    assert report.evidence.inputs == 0
    rivals = {x.rival_output for x in report.evidence.counterexamples}
    assert "13" in rivals
    assert any("NoResult" in r for r in rivals)
    for example in report.evidence.counterexamples:
        assert (example.call, example.selected_output) == ("result", "42")


async def test_computation_results_compare_with_float_tolerance(sandbox: Sandbox) -> None:
    task = Task(prompt="Compute the sum of 0.1 + 0.2 + 0.3.")
    candidates = [
        cand("left", "result = (0.1 + 0.2) + 0.3"),
        cand("right", "result = 0.1 + (0.2 + 0.3)"),
        cand("off", "result = 0.7"),
    ]
    report = await averify(task, candidates, sandbox=sandbox)
    assert sorted(cluster_of(report, "left")) == ["left", "right"]
    assert report.selected is not None and report.selected.id in {"left", "right"}


# -- the API -------------------------------------------------------------------------------------


async def test_duplicate_or_missing_candidates_are_refused() -> None:
    task = Task(prompt=ABS_PROMPT, entry_point="f")
    with pytest.raises(ValueError, match="unique"):
        await averify(task, [cand("x", "def f(x): return x"), cand("x", "def f(x): return -x")])
    with pytest.raises(ValueError, match="at least one"):
        await averify(task, [])


async def test_verify_inside_a_running_loop_says_to_use_averify() -> None:
    task = Task(prompt=ABS_PROMPT, entry_point="f")
    with pytest.raises(RuntimeError, match="averify"):
        verify(task, [cand("a", "def f(x):\n    return abs(x)")])


def test_verify_is_the_synchronous_form(sandbox: Sandbox) -> None:
    task = Task(prompt=ABS_PROMPT, entry_point="f", examples=["assert f(-1) == 1"])
    report = verify(
        task,
        [cand("a", "def f(x):\n    return abs(x)"), cand("b", "def f(x):\n    return x")],
        sandbox=sandbox,
        n_inputs=20,
    )
    assert report.selected is not None and report.selected.id == "a"
    assert evidence_of(report, "b").status == "rejected"


def test_verify_without_a_sandbox_starts_and_closes_its_own() -> None:
    task = Task(prompt=ABS_PROMPT, entry_point="f", examples=["assert f(-1) == 1"])
    report = verify(task, [cand("a", "def f(x):\n    return abs(x)")], n_inputs=10)
    assert report.selected is not None and report.selected.id == "a"
    assert evidence_of(report, "a").hard_passed == 1


async def test_a_sandbox_without_the_harness_modules_is_refused() -> None:
    narrow = Sandbox(allowed_imports=["math"])
    task = Task(prompt=ABS_PROMPT, entry_point="f")
    with pytest.raises(ValueError, match="harness"):
        await averify(task, [cand("a", "def f(x):\n    return x")], sandbox=narrow)


async def test_concurrent_verifications_share_one_sandbox(sandbox: Sandbox) -> None:
    task = Task(prompt=ABS_PROMPT, entry_point="f", examples=["assert f(-3) == 3"])
    pools = [
        [cand("a", "def f(x):\n    return abs(x)"), cand("b", f"def f(x):\n    return x + {k}")]
        for k in range(3)
    ]
    reports = await asyncio.gather(
        *(averify(task, pool, sandbox=sandbox, n_inputs=20) for pool in pools)
    )
    assert [r.selected.id if r.selected else None for r in reports] == ["a", "a", "a"]
