"""A task's hidden test, run against the code the pipeline chose, after it chose it.

The pipeline never sees the test: this is how a batch measures whether "verified" meant right.
HumanEval's `test` defines `check(candidate)`; it is called with the entry point. The job runs
in the batch's sandbox, under the task's limits, like any candidate. It passes only when the
job prints a fresh marker after the test's last line: exit status 0 alone would let code that
ends the process early (`os._exit(0)`, `sys.exit()` at import) claim a pass it never earned.
"""

from __future__ import annotations

import re
import secrets

from ..sandbox import Sandbox
from .tasks import BatchTask

__all__ = ["run_hidden_test"]

_DEFINES_CHECK = re.compile(r"^def\s+check\s*\(", re.M)


async def run_hidden_test(
    sandbox: Sandbox, item: BatchTask, code: str | None
) -> tuple[bool | None, str | None]:
    """(passed, why not) for `code` on the task's hidden test; (None, None) without a test.

    No code (the pipeline gave no answer) fails the test: the task was not solved.
    """
    if item.hidden_test is None:
        return None, None
    if code is None:
        return False, "no code to test: the pipeline gave no answer"
    program = f"{code}\n\n{item.hidden_test}\n"
    entry = item.task.entry_point
    if entry is not None and _DEFINES_CHECK.search(item.hidden_test):
        program += f"\ncheck({entry})\n"
    marker = "hidden-test-done-" + secrets.token_hex(8)
    program += f"\nprint({marker!r})\n"
    result = await sandbox.arun(program, limits=item.task.limits)
    finished = result.ok and marker in result.stdout.splitlines()
    if finished:
        return True, None
    if result.error is not None:
        why = f"{result.error.type}: {result.error.message}".strip().rstrip(":")
    elif result.ok:
        why = "the job ended before the test did (exit status 0 without finishing it)"
    else:
        why = f"exit status {result.exit_status}"
    return False, why[:300]
