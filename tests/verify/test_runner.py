"""One candidate, one sandbox job: tests and calls run under a timer, outcomes stream back.

Everything here runs in the real sandbox; the hostile candidates are the point.
"""

from __future__ import annotations

import asyncio

import pytest

from multiagent_codeact.sandbox import Sandbox
from multiagent_codeact.verify import runner
from multiagent_codeact.verify.codec import Opaque, Stream
from multiagent_codeact.verify.runner import CallOutcome, check_sandbox, run_program, same_outcome
from multiagent_codeact.verify.testcases import parse_tests

INPUTS = [(i,) for i in range(8)]


def kinds(run: runner.ProgramRun) -> list[str]:
    return [o.kind for o in run.outputs]


def values(run: runner.ProgramRun) -> list[object]:
    return [o.value for o in run.outputs]


# -- loading ----------------------------------------------------------------------------------


async def test_a_good_candidate_returns_a_value_per_input(sandbox: Sandbox) -> None:
    run = await run_program(sandbox, "def f(x):\n    return x * 2", "f", inputs=INPUTS)
    assert run.loaded and run.job_error is None
    assert values(run) == [2 * i for i in range(8)]
    assert run.tests == {} and run.result is None
    assert run.duration_ms > 0


async def test_syntax_error_is_a_load_error_with_its_line(sandbox: Sandbox) -> None:
    run = await run_program(sandbox, "def f(x):\n    return (x\n", "f", inputs=INPUTS)
    assert not run.loaded
    assert run.load_error is not None
    assert run.load_error.type == "SyntaxError"
    assert "never closed" in run.load_error.message
    assert run.outputs == [] and run.tests == {}


async def test_missing_entry_point_lists_what_is_defined(sandbox: Sandbox) -> None:
    code = "import math\nCONST = 3\ndef g(x):\n    return x\ndef helper():\n    pass\n"
    run = await run_program(sandbox, code, "f", inputs=INPUTS)
    assert run.load_error is not None
    assert run.load_error.type == "MissingEntryPoint"
    assert "'f'" in run.load_error.message
    assert "it defines: g, helper" in run.load_error.message
    assert run.outputs == []


async def test_a_non_callable_entry_point_is_missing_too(sandbox: Sandbox) -> None:
    run = await run_program(sandbox, "f = 3", "f", inputs=INPUTS)
    assert run.load_error is not None and run.load_error.type == "MissingEntryPoint"


async def test_forbidden_import_at_load_is_import_not_allowed(sandbox: Sandbox) -> None:
    code = "import subprocess\ndef f(x):\n    return x"
    run = await run_program(sandbox, code, "f", inputs=INPUTS)
    assert run.load_error is not None
    assert run.load_error.type == "ImportNotAllowed"
    assert "subprocess" in run.load_error.message
    assert run.load_error.line == 1


async def test_forbidden_import_inside_a_call_is_an_outcome(sandbox: Sandbox) -> None:
    code = "def f(x):\n    if x > 5:\n        import socket\n    return x"
    run = await run_program(sandbox, code, "f", inputs=INPUTS)
    assert run.loaded
    assert kinds(run) == ["value"] * 6 + ["raised"] * 2
    assert run.outputs[-1].error.startswith("ImportNotAllowed: ")
    assert "socket" in run.outputs[-1].error


async def test_an_exception_while_loading_is_a_load_error(sandbox: Sandbox) -> None:
    code = "def f(x):\n    return x\n\nraise ValueError('bad module')\n"
    run = await run_program(sandbox, code, "f", inputs=INPUTS)
    assert run.load_error is not None
    assert (run.load_error.type, run.load_error.message, run.load_error.line) == (
        "ValueError",
        "bad module",
        4,
    )


async def test_a_main_guard_in_the_candidate_does_not_run(sandbox: Sandbox) -> None:
    code = (
        "def f(x):\n    return x\n"
        "if __name__ == '__main__':\n    print('ran main')\n    raise SystemExit(3)\n"
    )
    run = await run_program(sandbox, code, "f", inputs=INPUTS)
    assert run.loaded
    assert values(run) == list(range(8))
    assert "ran main" not in run.output


async def test_prints_while_loading_are_kept_but_capped(sandbox: Sandbox) -> None:
    code = "print('hello')\nprint('y' * 2_000_000)\ndef f(x):\n    return x"
    run = await run_program(sandbox, code, "f", inputs=INPUTS)
    assert run.loaded
    assert run.output.startswith("hello\n")
    assert run.output.endswith("[... output truncated]")
    assert len(run.output) < 5000
    assert values(run) == list(range(8))


# -- calls ------------------------------------------------------------------------------------


async def test_exceptions_are_outcomes_with_type_and_message(sandbox: Sandbox) -> None:
    code = "def f(x):\n    if x % 2:\n        raise ValueError(f'odd {x}')\n    return x"
    run = await run_program(sandbox, code, "f", inputs=INPUTS)
    assert kinds(run) == ["value", "raised"] * 4
    assert run.outputs[1].error == "ValueError: odd 1"


async def test_a_timeout_skips_the_remaining_inputs_at_once(sandbox: Sandbox) -> None:
    code = "import time\ndef f(x):\n    if x >= 2:\n        time.sleep(100)\n    return x"
    run = await run_program(sandbox, code, "f", inputs=INPUTS, call_timeout_s=0.1)
    assert kinds(run) == ["value"] * 2 + ["timeout"] + ["skipped"] * 5
    assert run.outputs[-1].error == "gave up: it hangs"
    assert run.job_error is None
    assert run.duration_ms < 1500  # one timeout, not six


SWALLOWERS = {
    "bare-except-pass": (
        "def f(x):\n"
        "    while True:\n"
        "        try:\n"
        "            while True:\n"
        "                pass\n"
        "        except:\n"
        "            pass\n"
    ),
    "base-exception-continue": (
        "import time\n"
        "def spin():\n"
        "    time.sleep(10)\n"
        "def f(x):\n"
        "    for _ in range(10**9):\n"
        "        try:\n"
        "            spin()\n"
        "        except BaseException:\n"
        "            continue\n"
    ),
}


@pytest.mark.parametrize("code", SWALLOWERS.values(), ids=SWALLOWERS.keys())
async def test_a_loop_that_swallows_every_exception_still_times_out(
    sandbox: Sandbox, code: str
) -> None:
    run = await run_program(sandbox, code, "f", inputs=INPUTS, call_timeout_s=0.1)
    assert kinds(run) == ["timeout"] + ["skipped"] * 7
    assert run.job_error is None
    assert run.duration_ms < 2500  # not the whole job budget


async def test_a_swallowing_loop_at_load_time_is_a_timeout(sandbox: Sandbox) -> None:
    code = "while True:\n    try:\n        while True:\n            pass\n    except:\n        pass"
    run = await run_program(sandbox, code, "f", inputs=INPUTS, budget_s=0.5)
    assert run.load_error is not None and run.load_error.type == "Timeout"
    assert run.job_error is None


async def test_a_candidate_that_prints_megabytes_keeps_its_outcomes(sandbox: Sandbox) -> None:
    code = (
        "import sys\n"
        "def f(x):\n"
        "    print('z' * 1_000_000)\n"
        "    sys.stderr.write('e' * 500_000)\n"
        "    return x + 1\n"
    )
    run = await run_program(sandbox, code, "f", inputs=INPUTS)
    assert run.job_error is None
    assert values(run) == [i + 1 for i in range(8)]


async def test_unencodable_return_values_become_opaque(sandbox: Sandbox) -> None:
    code = (
        "import math\n"
        "class Thing:\n    pass\n"
        "def f(x):\n"
        "    return [lambda: x, (i for i in range(x)), Thing(), math, x][x % 5]\n"
    )
    run = await run_program(sandbox, code, "f", inputs=INPUTS)
    assert run.job_error is None
    assert kinds(run) == ["value"] * 8
    assert [type(v).__name__ for v in values(run)[:5]] == ["Opaque", "Stream"] + ["Opaque"] * 2 + [
        "int"
    ]
    types = [v.type for v in values(run)[:4] if isinstance(v, Opaque)]
    assert types == ["function", "Thing", "module"]
    assert values(run)[1] == Stream((0,), complete=True)  # what the generator yielded
    assert all("0x" not in v.repr for v in values(run) if isinstance(v, Opaque))


async def test_a_return_value_whose_repr_raises_is_not_fatal(sandbox: Sandbox) -> None:
    code = (
        "class Slow:\n"
        "    def __repr__(self):\n"
        "        raise RuntimeError('no repr for you')\n"
        "def f(x):\n    return Slow() if x == 1 else x\n"
    )
    run = await run_program(sandbox, code, "f", inputs=INPUTS)
    assert kinds(run) == ["value"] * 8
    assert run.outputs[1].value == Opaque("Slow", "<repr failed: RuntimeError>")


async def test_huge_return_values_come_back_as_a_digest(sandbox: Sandbox) -> None:
    code = "def f(x):\n    return list(range(x * 1000))"
    run = await run_program(sandbox, code, "f", inputs=INPUTS, max_value_chars=1000)
    assert values(run)[0] == []
    assert type(values(run)[1]).__name__ == "Digest"
    assert values(run)[1] != values(run)[2]


@pytest.mark.parametrize(
    "crash", ["os.kill(os.getpid(), 9)", "os.abort()", "os._exit(0)"], ids=["kill", "abort", "exit"]
)
async def test_a_crash_is_the_outcome_of_that_call_alone(sandbox: Sandbox, crash: str) -> None:
    # The candidate runs in a process of its own: its crash ends that process, not the job,
    # and a fresh one answers the calls after it.
    code = f"import os\ndef f(x):\n    if x == 3:\n        {crash}\n    return x * 10\n"
    run = await run_program(sandbox, code, "f", inputs=INPUTS)
    assert run.loaded
    assert run.job_error is None
    assert kinds(run) == ["value"] * 3 + ["raised"] + ["value"] * 4
    assert run.outputs[3].error.startswith("Crashed")
    assert values(run)[4:] == [40, 50, 60, 70]


async def test_a_crash_in_the_tests_fails_that_test_alone(sandbox: Sandbox) -> None:
    group = parse_tests(
        "assert f(1) == 1\nassert f(2) == 3\nassert f(3) == 3\nassert f(4) == 4\n",
        "f",
        group_id="u",
        source="user",
    )
    code = "import os\ndef f(x):\n    if x == 3:\n        os.kill(os.getpid(), 9)\n    return x"
    run = await run_program(sandbox, code, "f", tests=[group])
    assert [run.tests[f"u.{i}"].kind for i in range(1, 5)] == ["pass", "fail", "error", "pass"]
    crashed = run.tests["u.3"]
    assert crashed.error is not None and crashed.error.type == "Crashed"
    assert crashed.calls == ["f(3) raised Crashed: the candidate's process died during the call"]


async def test_the_job_budget_skips_what_does_not_fit(sandbox: Sandbox) -> None:
    code = "import time\ndef f(x):\n    time.sleep(0.1)\n    return x"
    run = await run_program(sandbox, code, "f", inputs=INPUTS, budget_s=0.35)
    got = kinds(run)
    assert got[:2] == ["value", "value"]
    assert got[-3:] == ["skipped"] * 3  # not run at all: no time left
    assert run.job_error is None
    assert run.duration_ms < 2000


# -- tests ------------------------------------------------------------------------------------


async def test_assertions_report_expected_and_actual_values(sandbox: Sandbox) -> None:
    group = parse_tests(
        "assert f(1) == 2\nassert f(2) == 5\nassert 3 == f(3)\nassert f(0)\n",
        "f",
        group_id="u",
        source="user",
    )
    run = await run_program(sandbox, "def f(x):\n    return 2 * x", "f", tests=[group])
    assert run.tests["u.1"].passed
    assert (run.tests["u.2"].kind, run.tests["u.2"].actual, run.tests["u.2"].expected) == (
        "fail",
        "4",
        "5",
    )
    assert (run.tests["u.3"].actual, run.tests["u.3"].expected) == ("6", "3")
    assert run.tests["u.4"].kind == "fail"
    assert run.tests["u.4"].error is not None
    assert run.tests["u.4"].error.type == "AssertionError"


async def test_float_noise_in_an_equality_test_passes(sandbox: Sandbox) -> None:
    group = parse_tests(
        "assert f(0.1) == 0.3\nassert f(0.1) == 0.31\n", "f", group_id="u", source="user"
    )
    run = await run_program(sandbox, "def f(x):\n    return x + 0.2", "f", tests=[group])
    assert run.tests["u.1"].passed
    assert run.tests["u.2"].kind == "fail"


async def test_every_style_of_test_code_runs(sandbox: Sandbox) -> None:
    styles = {
        "bare": "assert f(1) == 2\nassert f(2) == 5\n",
        "functions": (
            "def helper(x):\n    return x + 1\n"
            "def test_ok():\n    assert f(helper(0)) == 2\n"
            "def test_bad():\n    assert f(2) == 5\n"
        ),
        "check": (
            "def check(candidate):\n"
            "    xs = 1\n"
            "    assert candidate(xs) == 2\n"
            "    xs = xs + 1\n"
            "    assert candidate(xs) == 5\n"
            "check(f)\n"
        ),
        "unittest": (
            "import unittest\n"
            "class TestF(unittest.TestCase):\n"
            "    def setUp(self):\n        self.base = 1\n"
            "    def test_ok(self):\n        self.assertEqual(f(self.base), 2)\n"
            "    def test_bad(self):\n        self.assertEqual(f(self.base + 1), 5)\n"
        ),
    }
    groups = [parse_tests(code, "f", group_id=k, source="user") for k, code in styles.items()]
    run = await run_program(sandbox, "def f(x):\n    return 2 * x", "f", tests=groups)
    for name in styles:
        first, second = run.tests[f"{name}.1"], run.tests[f"{name}.2"]
        assert first.kind == "pass", (name, first)
        assert second.kind == "fail", (name, second)


async def test_a_test_that_errors_or_hangs_costs_only_itself(sandbox: Sandbox) -> None:
    group = parse_tests(
        "assert f(1) == 1\nassert f(-1) == 1\nassert f(10**9) == 1\nassert f(2) == 2\n",
        "f",
        group_id="u",
        source="user",
    )
    code = (
        "def f(x):\n"
        "    if x < 0:\n        raise KeyError(x)\n"
        "    while x > 100:\n        pass\n"
        "    return x\n"
    )
    run = await run_program(sandbox, code, "f", tests=[group], call_timeout_s=0.1)
    assert [run.tests[f"u.{i}"].kind for i in range(1, 5)] == ["pass", "error", "timeout", "pass"]
    error = run.tests["u.2"].error
    assert error is not None and error.type == "KeyError"


async def test_a_setup_error_fails_every_case_of_its_group_only(sandbox: Sandbox) -> None:
    broken = parse_tests(
        "import nosuchmodule\nassert f(1) == 1\nassert f(2) == 2", "f", group_id="b", source="user"
    )
    fine = parse_tests("assert f(1) == 1\n", "f", group_id="ok", source="user")
    run = await run_program(sandbox, "def f(x):\n    return x", "f", tests=[broken, fine])
    assert run.tests["b.1"].kind == run.tests["b.2"].kind == "error"
    assert run.tests["b.1"].error is not None
    assert run.tests["ok.1"].passed


async def test_groups_that_did_not_parse_are_not_sent(sandbox: Sandbox) -> None:
    bad = parse_tests("assert f(1 ==", "f", group_id="bad", source="candidate")
    run = await run_program(sandbox, "def f(x):\n    return x", "f", tests=[bad])
    assert run.loaded and run.tests == {}


async def test_tests_cannot_change_the_candidate_for_later_groups(sandbox: Sandbox) -> None:
    meddler = parse_tests(
        "f = lambda x: 99\nassert f(1) == 99\n", "f", group_id="m", source="candidate"
    )
    honest = parse_tests("assert f(1) == 1\n", "f", group_id="h", source="user")
    run = await run_program(sandbox, "def f(x):\n    return x", "f", tests=[meddler, honest])
    assert run.tests["m.1"].passed
    assert run.tests["h.1"].passed
    assert values(await run_program(sandbox, "def f(x):\n    return x", "f", inputs=[(1,)])) == [1]


# -- computation tasks -------------------------------------------------------------------------


async def test_computation_tasks_return_the_result_variable(sandbox: Sandbox) -> None:
    run = await run_program(sandbox, "a, b = 3, 4\nresult = (a * a + b * b) ** 0.5", None)
    assert run.loaded
    assert run.result == CallOutcome(kind="value", value=5.0)
    assert run.outputs == []


async def test_computation_without_result_or_with_an_odd_one(sandbox: Sandbox) -> None:
    missing = await run_program(sandbox, "a = 3", None)
    assert missing.result is not None and missing.result.kind == "raised"
    assert missing.result.error.startswith("NoResult")
    odd = await run_program(sandbox, "result = (x for x in [1]), {1: (2,)}", None)
    assert odd.result is not None and odd.result.kind == "value"
    gen, mapping = odd.result.value
    assert gen == Stream((1,)) and mapping == {1: (2,)}


async def test_computation_that_fails_is_a_load_error(sandbox: Sandbox) -> None:
    run = await run_program(sandbox, "result = 1 / 0", None)
    assert run.load_error is not None and run.load_error.type == "ZeroDivisionError"
    assert run.result is None


# -- host-side helpers ---------------------------------------------------------------------------


def test_same_outcome_compares_values_and_exception_types() -> None:
    value = CallOutcome(kind="value", value=0.3)
    assert same_outcome(value, CallOutcome(kind="value", value=0.1 + 0.2), rtol=1e-9)
    assert not same_outcome(value, CallOutcome(kind="value", value=0.1 + 0.2))
    raised = CallOutcome(kind="raised", error="ValueError: a")
    assert same_outcome(raised, CallOutcome(kind="raised", error="ValueError: b"))
    assert not same_outcome(raised, CallOutcome(kind="raised", error="KeyError: a"))
    assert not same_outcome(raised, value)
    timeout = CallOutcome(kind="timeout")
    assert not same_outcome(timeout, timeout)
    assert not same_outcome(CallOutcome(kind="skipped"), CallOutcome(kind="skipped"))


def test_a_sandbox_that_forbids_the_harness_modules_is_refused() -> None:
    narrow = Sandbox(allowed_imports=["math"])  # never started: the check needs no server
    with pytest.raises(ValueError, match="signal"):
        check_sandbox(narrow)


async def test_concurrent_jobs_with_many_test_groups_stay_under_the_process_limit(
    sandbox: Sandbox,
) -> None:
    # Each test group runs in a process of its own; a dead one still counts against the jail's
    # process limit until it is collected. Eight groups in each of twelve concurrent jobs must
    # not run out of processes (they did, as "ProcessLimit" errors, before dead children were
    # collected at once).
    groups = [
        parse_tests(
            f"assert f({i}) == {2 * i}\nassert f({i + 1}) == {2 * i + 2}",
            "f",
            group_id=f"g{i}",
            source="designer",
        )
        for i in range(8)
    ]
    runs = await asyncio.gather(
        *(
            run_program(sandbox, "def f(x):\n    return x * 2\n", "f", tests=groups)
            for _ in range(12)
        )
    )
    outcomes = [o for r in runs for o in r.tests.values()]
    assert len(outcomes) == 12 * 16
    assert all(o.passed for o in outcomes), {o.error.type for o in outcomes if o.error}
