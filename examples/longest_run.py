"""A HumanEval-style function, written three ways and cross-checked.

The Python twin of examples/longest_run.yaml:

    python examples/longest_run.py --scripted   # offline, replies from examples/scripted/
    python examples/longest_run.py              # live, with a model configured (see the README)

The run is recorded like the CLI's: `mcodeact runs show ID` shows what every agent did.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import multiagent_codeact as mca
from multiagent_codeact.offline import scripted_config, scripted_server
from multiagent_codeact.runlog import RunStore

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scripted", nargs="?", const=str(SCRIPT), default=os.environ.get("MCODEACT_SCRIPTED"),
        metavar="SCRIPT.yaml", help="answer model calls from a script (default: %(const)s)",
    )  # fmt: skip
    args = parser.parse_args()
    store = RunStore()  # $MCODEACT_RUNS_DIR, else ./.mcodeact/runs
    try:
        if args.scripted:
            print(f"note: model replies are scripted ({args.scripted})", file=sys.stderr)
            with scripted_server(args.scripted) as server:
                config = scripted_config(CONFIG, server.base_url)
                solution = mca.solve(TASK, config=config, store=store)
        else:
            solution = mca.solve(TASK, config=CONFIG, store=store)
    except mca.MCAError as exc:  # no model configured, a bad script file...
        print(f"error: {exc}", file=sys.stderr)
        return 2

    print(f"{solution.verdict.value} (confidence {solution.confidence:.2f})")
    print(solution.code)
    print(f"run folder: {store.root / solution.run_id}")
    print(f"next: mcodeact runs show {solution.run_id}")
    return 0 if solution.verified else 1


if __name__ == "__main__":
    sys.exit(main())
