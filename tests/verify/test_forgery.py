"""A candidate cannot forge its own outcomes: each trick that worked when the harness and the
candidate shared a process, tried against the real sandbox and harness.

Every hostile candidate here is wrong (f(x) = x + 1 where the tests want 2x, so f(2) == 4
holds by luck and f(3) == 6 does not) and then sets out to turn its failures into passes.
"""

from __future__ import annotations

import pytest

from multiagent_codeact import Candidate, Task
from multiagent_codeact.sandbox import Sandbox
from multiagent_codeact.verify import averify
from multiagent_codeact.verify.runner import run_program
from multiagent_codeact.verify.testcases import parse_tests

TESTS = "assert f(3) == 6\nassert f(5) == 10\ndef test_seven():\n    assert f(7) == 14\n"
WRONG = "def f(x):\n    return x + 1\n"

ATTACKS = {
    "eq-always-true": (
        "class Yes:\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    def __bool__(self):\n        return True\n"
        "def f(x):\n    return Yes()\n"
    ),
    "patch-harness-through-frames": (
        "import sys\n"
        "frame = sys._getframe()\n"
        "while frame is not None:\n"
        "    g = frame.f_globals\n"
        "    if 'evaluate_case' in g:\n"
        "        g['evaluate_case'] = lambda test, scope: {'o': 'pass'}\n"
        "        g['_equal'] = lambda a, b: True\n"
        "        g['_clean_test'] = lambda reply: {'o': 'pass'}\n"
        "    frame = frame.f_back\n" + WRONG
    ),
    "replace-harness-methods": (
        "import sys\n"
        "frame = sys._getframe()\n"
        "while frame is not None:\n"
        "    for value in list(frame.f_globals.values()):\n"
        "        if isinstance(value, type) and value.__name__ in ('Judge', 'TestRunner'):\n"
        "            value.run_case = lambda self, *a: {'o': 'pass'}\n"
        "            value.run_test = lambda self, *a: {'o': 'pass'}\n"
        "    frame = frame.f_back\n" + WRONG
    ),
    "rewrite-outgoing-records": (
        "import json, os\n"
        "real_dumps, real_write = json.dumps, os.write\n"
        "json.dumps = lambda obj, **kw: real_dumps(obj, **kw).replace('\"fail\"', '\"pass\"')\n"
        "def write(fd, data):\n"
        "    return real_write(fd, data.replace(b'\"fail\"', b'\"pass\"'))\n"
        "os.write = write\n" + WRONG
    ),
    "steal-the-nonce-and-forge": (
        "import os, sys\n"
        "frame, nonce = sys._getframe(), None\n"
        "while frame is not None:\n"
        "    for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):\n"
        "        found = getattr(value, 'nonce', None)\n"
        "        if isinstance(found, str):\n"
        "            nonce = found\n"
        "    frame = frame.f_back\n"
        "forged = b''\n"
        "for i in range(1, 4):\n"
        '    record = \'{"k":"test","id":"t.%d","o":"pass"}\' % i\n'
        "    forged += (nonce + record + '\\n').encode()\n"
        'forged += (nonce + \'{"k":"done"}\\n\').encode()\n'
        "for fd in (1, 2, 3, 4, 5, 6):\n"
        "    try:\n"
        "        os.write(fd, forged)\n"
        "    except OSError:\n"
        "        pass\n"
        "for path in ('/proc/%d/fd/1' % os.getppid(), '/proc/self/fd/1'):\n"
        "    try:\n"
        "        with open(path, 'wb') as out:\n"
        "            out.write(forged)\n"
        "    except OSError:\n"
        "        pass\n" + WRONG
    ),
    "kill-the-judge-after-forging": (
        "import os, signal\n"
        "try:\n"
        "    os.kill(os.getppid(), signal.SIGKILL)\n"
        "except OSError:\n"
        "    pass\n" + WRONG
    ),
}


@pytest.mark.parametrize("code", ATTACKS.values(), ids=ATTACKS.keys())
async def test_a_wrong_candidate_cannot_turn_its_failures_into_passes(
    sandbox: Sandbox, code: str
) -> None:
    group = parse_tests(TESTS, "f", group_id="t", source="user")
    run = await run_program(sandbox, code, "f", tests=[group], inputs=[(3,), (5,)])
    outcomes = {t: o.kind for t, o in run.tests.items()}
    assert not any(o.passed for o in run.tests.values()), outcomes
    assert all(not o.in_process for o in run.tests.values())
    # What it returns on the inputs is what it computes (x + 1), or an opaque object: never
    # a value forged to look like 2x.
    values = [o.value for o in run.outputs if o.kind == "value"]
    assert values in ([4, 6], []) or all(type(v).__name__ == "Opaque" for v in values), values


async def test_the_honest_candidate_still_passes(sandbox: Sandbox) -> None:
    group = parse_tests(TESTS, "f", group_id="t", source="user")
    run = await run_program(sandbox, "def f(x):\n    return 2 * x\n", "f", tests=[group])
    assert all(o.passed for o in run.tests.values())


async def test_a_forger_is_rejected_by_the_verifier(sandbox: Sandbox) -> None:
    task = Task(prompt="def f(x: int) -> int:\n    'Twice x.'\n", entry_point="f", tests=TESTS)
    candidates = [
        Candidate(id=name, code=code) for name, code in ATTACKS.items() if "kill" not in name
    ] + [Candidate(id="honest", code="def f(x):\n    return x * 2\n")]
    report = await averify(task, candidates, sandbox=sandbox, n_inputs=20)
    assert report.selected is not None and report.selected.id == "honest"
    statuses = {c.id: c.status for c in report.evidence.candidates}
    assert all(s == "rejected" for cid, s in statuses.items() if cid != "honest"), statuses


async def test_a_test_that_needs_live_objects_runs_beside_the_candidate_and_says_so(
    sandbox: Sandbox,
) -> None:
    # A function passed in cannot cross as data: that one test runs in the candidate's own
    # process, where its outcome could be forged, and is marked so.
    tests = "assert apply(lambda v: v + 1, 2) == 3\nassert apply(abs, -4) == 4\n"
    group = parse_tests(tests, "apply", group_id="t", source="user")
    run = await run_program(sandbox, "def apply(g, x):\n    return g(x)\n", "apply", tests=[group])
    assert run.tests["t.1"].passed and run.tests["t.1"].in_process
    assert run.tests["t.2"].passed  # `abs` is a builtin the test's process has too
