"""The hidden test in the real sandbox: only a test that ran to its end is a pass."""

from __future__ import annotations

import pytest

from multiagent_codeact.batch.hidden import run_hidden_test
from multiagent_codeact.batch.tasks import BatchTask
from multiagent_codeact.domain import Task
from multiagent_codeact.sandbox import Sandbox

from .conftest import CHECK, PROMPT

ITEM = BatchTask(task=Task(id="sq", prompt=PROMPT, entry_point="square"), hidden_test=CHECK)


async def test_right_code_passes_and_wrong_code_fails(sandbox: Sandbox) -> None:
    assert await run_hidden_test(sandbox, ITEM, "def square(x):\n    return x * x\n") == (
        True,
        None,
    )
    passed, why = await run_hidden_test(sandbox, ITEM, "def square(x):\n    return x + x\n")
    assert passed is False and why is not None and why.startswith("AssertionError")


@pytest.mark.parametrize(
    "liar",
    [
        "import os\ndef square(x):\n    return 0\nos._exit(0)\n",  # ends before the test runs
        "import sys\ndef square(x):\n    return 0\nsys.exit(0)\n",
        # quits from inside the test, with the status of a pass
        "import os\ndef square(x):\n    os._exit(0)\n",
    ],
)
async def test_code_that_exits_early_with_status_0_does_not_pass(
    sandbox: Sandbox, liar: str
) -> None:
    passed, why = await run_hidden_test(sandbox, ITEM, liar)
    assert passed is False
    assert why is not None and ("ended before the test did" in why or "SystemExit" in why)


async def test_no_code_fails_and_no_test_is_none(sandbox: Sandbox) -> None:
    assert (await run_hidden_test(sandbox, ITEM, None))[0] is False
    untested = BatchTask(task=ITEM.task)
    assert await run_hidden_test(sandbox, untested, "def square(x):\n    return 1\n") == (
        None,
        None,
    )
