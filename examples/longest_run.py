"""A HumanEval-style function, written three ways and cross-checked.

The Python twin of examples/longest_run.yaml:

    python examples/longest_run.py --scripted   # offline, replies from examples/scripted/
    python examples/longest_run.py              # live, with a model configured (see the README)

The run is recorded like the CLI's: `mcodeact runs show ID` shows what every agent did.
"""

from __future__ import annotations

import sys
from pathlib import Path

import multiagent_codeact as mca
from multiagent_codeact.offline import run_example

SCRIPT = Path(__file__).parent / "scripted" / "longest_run.yaml"

TASK = mca.Task(
    id="longest-increasing-run",
    entry_point="longest_increasing_run",
    prompt=(
        "def longest_increasing_run(nums: list[int]) -> int:\n"
        '    """Return the length of the longest run of consecutive elements of nums that is\n'
        "    strictly increasing. An empty list has no run: return 0.\n"
        "\n"
        "    >>> longest_increasing_run([1, 2, 2, 3, 4, 1])\n"
        "    3\n"
        "    >>> longest_increasing_run([5, 4, 3])\n"
        "    1\n"
        '    """\n'
    ),
)
CONFIG = mca.PipelineConfig(candidates=3, repair_rounds=2, test_designer=True)


if __name__ == "__main__":
    sys.exit(run_example(TASK, CONFIG, SCRIPT))
